import { readBytes, writeFileAtomically } from './container.ts';
import { ModelFormatError } from './errors.ts';
import type { Recommender } from './recommender.ts';

/**
 * How a model family is stored and read back: the artifact (one byte string, starting with the family's 4-byte
 * magic) that the model file holds and that the database stores for a model version. Whoever loads a model —
 * the API, the CLI, the database package — asks the registry by family name or by magic, never for a concrete
 * class, so a new family (EASE, item-kNN, iALS, BPR, NCF) is served by registering it here, with no new code in
 * the server.
 */
export interface ModelFamily {
  /** The `Recommender.family` it reads and writes. */
  readonly family: string;
  /** 4 ASCII characters at byte 0 of the family's artifact. */
  readonly magic: string;
  serialize(model: Recommender): Uint8Array;
  /** `source` names the bytes in errors (a file path, "model version 3"). */
  deserialize(bytes: Uint8Array, source: string): Recommender;
}

/** Filled by each family's module as it is imported (artifact.ts, popularity.ts, models/codec.ts, models/ncf.ts). */
const families = new Map<string, ModelFamily>();

/** Adds a family (its module calls this once when imported); a second family with the same name or magic throws. */
export function registerModelFamily(entry: ModelFamily): void {
  if (!/^[\x20-\x7e]{4}$/.test(entry.magic))
    throw new RangeError(
      `registerModelFamily: magic must be 4 ASCII characters, got ${JSON.stringify(entry.magic)}`,
    );
  const existing = families.get(entry.family);
  if (existing === entry) return;
  if (existing)
    throw new RangeError(`registerModelFamily: family ${JSON.stringify(entry.family)} is registered twice`);
  for (const f of families.values())
    if (f.magic === entry.magic)
      throw new RangeError(
        `registerModelFamily: magic ${JSON.stringify(entry.magic)} of ${entry.family} is already ${f.family}'s`,
      );
  families.set(entry.family, entry);
}

/**
 * Registers the family whose models are the instances of one class (`model`): its serialize refuses any other model
 * with a ModelFormatError naming the family and the class.
 */
export function registerModelClass<M extends Recommender>(
  family: string,
  magic: string,
  model: abstract new (...args: never[]) => M,
  codec: { serialize(model: M): Uint8Array; deserialize(bytes: Uint8Array, source: string): Recommender },
): void {
  registerModelFamily({
    family,
    magic,
    serialize(m) {
      if (!(m instanceof model))
        throw new ModelFormatError(
          `the '${family}' family serialises ${model.name}, got a ${m.family} model`,
        );
      return codec.serialize(m);
    },
    deserialize: (bytes, source) => codec.deserialize(bytes, source),
  });
}

/** The registered family names. */
export function modelFamilies(): string[] {
  return [...families.keys()];
}

/** The family entry by name; an unknown name throws ModelFormatError listing the known ones. */
export function modelFamily(name: string): ModelFamily {
  const found = families.get(name);
  if (!found)
    throw new ModelFormatError(
      `unknown model family ${JSON.stringify(name)} (this build knows ${modelFamilies().join(', ')}); a newer movierec wrote it?`,
    );
  return found;
}

/** The model's artifact bytes (by its family's serialiser). */
export function serializeRecommender(model: Recommender): Uint8Array {
  return modelFamily(model.family).serialize(model);
}

/** A model from artifact bytes of any registered family (chosen by the magic); `source` names it in errors. */
export function deserializeRecommender(bytes: Uint8Array, source = 'model artifact'): Recommender {
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  for (const f of families.values()) if (f.magic === magic) return f.deserialize(bytes, source);
  throw new ModelFormatError(
    `${source}: not a movierec model (starts with ${JSON.stringify(magic)}; known: ${[...families.values()]
      .map((f) => `"${f.magic}" ${f.family}`)
      .join(', ')})`,
  );
}

/** Writes the model's artifact to `path` (a temporary file, then rename: readers never see half a file). */
export async function saveRecommender(model: Recommender, path: string): Promise<void> {
  await writeFileAtomically(path, serializeRecommender(model));
}

/** Reads a model file of any registered family. */
export async function loadRecommender(path: string): Promise<Recommender> {
  return deserializeRecommender(await readBytes(path), path);
}
