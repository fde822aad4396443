import { writeFileSync } from 'node:fs';
import type { Dataset } from '@movierec/data';
import {
  checkSearchSpace,
  DEFAULT_SPACES,
  evaluateRanking,
  parseSearchSpace,
  popularityModel,
  RANKING_FAMILIES,
  RANKING_PRESETS,
  type RankingConfig,
  type RankingFamily,
  rankingSplit,
  type SearchSpace,
  SearchSpaceError,
  type TuneMetric,
  tuneRanking,
} from '@movierec/trainer';
import { type Command, choiceFlag, intFlag, stringFlag } from '../framework/command.ts';
import { CliError, UsageError } from '../framework/errors.ts';
import { table } from '../framework/table.ts';
import {
  INTERACTIONS_OPTION,
  loadRankingData,
  rankingChoice,
  rankingMetricNames,
  rankingTable,
  trainRankingModel,
} from '../ranking.ts';

const METRICS: readonly TuneMetric[] = ['ndcg', 'recall', 'precision', 'map', 'hitRate'];

function describeSpace(space: SearchSpace): string {
  return Object.entries(space)
    .map(([name, r]) =>
      'values' in r
        ? `${name}=${r.values.join('|')}`
        : `${name}=${r.min}:${r.max}${r.scale === 'log' ? ':log' : ''}${r.integer ? ':int' : ''}`,
    )
    .join(',');
}

export const tuneCommand: Command = {
  name: 'tune',
  summary:
    "search a ranking model's hyper-parameters on a validation split of the training part; save the best",
  details:
    'The data is first split as `evaluate --task ranking` does (each user’s latest 20% is the TEST part, never ' +
    'looked at while searching); the training part is split again the same way, and every trial is fitted on its ' +
    'earlier 80% and scored (NDCG@10 by default) on its latest 20%. Random search (Bergstra & Bengio 2012): the ' +
    'first trial is the starting configuration, the others draw each parameter from its range (log-uniform with ' +
    ':log). The best configuration is written to --out, for `train --task ranking --preset <file>` and ' +
    '`evaluate --task ranking --preset <file>`; it is then refitted on the whole training part and scored once on ' +
    'the test part, beside popularity, for reference. Default spaces: ' +
    RANKING_FAMILIES.map((f) => `${f}: ${describeSpace(DEFAULT_SPACES[f])}`).join('; '),
  args: [
    { name: 'path|name', description: 'ratings file/folder/archive or dataset name (default: bundled)' },
  ],
  options: {
    model: {
      type: 'string',
      valueName: RANKING_FAMILIES.join('|'),
      description: 'the model family to tune',
      defaultText: "the --preset's family (ease)",
    },
    preset: {
      type: 'string',
      valueName: 'name|file',
      description: 'starting configuration (a ranking preset or a file from an earlier tune)',
      defaultText: 'the family’s preset',
    },
    space: {
      type: 'string',
      valueName: 'spec',
      description:
        'ranges, e.g. lambda=100:2000:log,weighting.lowWeight=0:1,factors=32|64 (":int" for integers)',
      defaultText: 'the family’s default space',
    },
    trials: { type: 'string', valueName: 'n', description: 'configurations to try', defaultText: '20' },
    metric: {
      type: 'string',
      valueName: METRICS.join('|'),
      description: 'what the leaderboard ranks by (at --k)',
      defaultText: 'ndcg',
    },
    k: { type: 'string', valueName: 'n', description: 'cut-off of the ranking metrics', defaultText: '10' },
    seed: { type: 'string', valueName: 'n', description: 'random-search seed', defaultText: '42' },
    out: {
      type: 'string',
      valueName: 'file',
      description: 'where to write the best configuration',
      defaultText: 'tuned-<model>.json',
    },
    'from-db': { type: 'boolean', description: 'tune on the ratings and views stored in the database' },
    ...INTERACTIONS_OPTION,
  },
  examples: [
    'movierec tune --model ease --trials 20',
    "movierec tune --model ials --space 'l2=1:100:log,confidence.alpha=0.5:20:log' --out ials.json",
    'movierec train --task ranking --preset tuned-ease.json --out ease.mrm',
  ],
  async run(ctx, input) {
    const { values } = input;
    const trials = intFlag(values, 'trials', 1) ?? 20;
    const k = intFlag(values, 'k', 1) ?? 10;
    const seed = intFlag(values, 'seed', 0) ?? 42;
    const metric = choiceFlag(values, 'metric', METRICS) ?? 'ndcg';
    const modelFlag = choiceFlag(values, 'model', RANKING_FAMILIES);
    let base: RankingConfig;
    if (values.preset !== undefined) {
      const chosen = rankingChoice(ctx, values).config;
      if (chosen.family === 'ncf')
        throw new UsageError(
          `--preset ${String(values.preset)} is an NCF model; tune searches ${RANKING_FAMILIES.join(', ')} (NCF: bench/accuracy-ncf.ts --inner)`,
        );
      base = chosen;
      if (modelFlag !== undefined && modelFlag !== base.family)
        throw new UsageError(
          `--model ${modelFlag} but --preset ${String(values.preset)} is a ${base.family} model`,
        );
    } else base = structuredClone(RANKING_PRESETS[modelFlag ?? 'ease']) as RankingConfig;
    const family = base.family as RankingFamily;
    let space: SearchSpace = DEFAULT_SPACES[family];
    const spaceText = stringFlag(values, 'space');
    try {
      if (spaceText !== undefined) space = parseSearchSpace(spaceText);
      // checks before any data is read
      checkSearchSpace(family, space);
    } catch (error) {
      if (error instanceof SearchSpaceError) throw new UsageError(error.message);
      throw error;
    }
    const out = ctx.resolvePath(stringFlag(values, 'out') ?? `tuned-${family}.json`);
    const dataset: Dataset = await loadRankingData(ctx, input);
    const outer = rankingSplit(dataset.ratings, 'temporal');
    const trainPart = { ...dataset, ratings: outer.train };
    ctx.log(
      `tuning ${family} on ${dataset.name}: ${trials} trials, ${metric}@${k} on a validation split of the ` +
        `${outer.train.length} training interactions (the ${outer.test.length} test ones are not used); space ${describeSpace(space)}`,
    );
    const bar = ctx.progress(`tune ${family}`, 'trials');
    let result: Awaited<ReturnType<typeof tuneRanking>>;
    let best = Number.NEGATIVE_INFINITY;
    try {
      bar.update({ done: 0, total: trials });
      result = await tuneRanking(trainPart, {
        family,
        base,
        space,
        trials,
        seed,
        metric,
        k,
        signal: ctx.signal,
        onTrial: (t, done, total) => {
          const better = t.score > best;
          best = Math.max(best, t.score);
          if (ctx.verbose || better)
            bar.interrupt(() =>
              ctx.log(
                `trial ${done}/${total}: ${metric}@${k} ${t.score.toFixed(4)}${better ? ' (best so far)' : ''} ` +
                  `${JSON.stringify(t.params)} ${t.seconds.toFixed(1)} s`,
              ),
            );
          bar.update({ done, total });
        },
      });
      bar.finish(`best ${metric}@${k} ${best.toFixed(4)}`);
    } catch (error) {
      bar.abort();
      throw error;
    }
    const paramNames = Object.keys(space);
    ctx.print('');
    ctx.print(`Leaderboard (validation ${metric}@${k}, ${result.validation.users} users):`);
    ctx.print(
      table(
        ['#', 'trial', `${metric}@${k}`, `R@${k}`, 'coverage', ...paramNames, 's'],
        result.leaderboard
          .slice(0, 10)
          .map((t, rank) => [
            rank + 1,
            t.index === 0 ? '0 (start)' : String(t.index),
            t.score.toFixed(4),
            t.metrics.recall.toFixed(4),
            t.metrics.coverage.toFixed(4),
            ...paramNames.map((p) => (t.index === 0 ? 'start' : String(t.params[p]))),
            t.seconds.toFixed(1),
          ]),
      ),
    );
    const file = {
      task: 'ranking',
      model: result.best.config,
      tuning: {
        dataset: dataset.name,
        metric: `${metric}@${k}`,
        validation: result.best.score,
        trials,
        seed,
        space: describeSpace(space),
        protocol: 'temporal, inner split of the training part',
      },
    };
    try {
      writeFileSync(out, `${JSON.stringify(file, null, 2)}\n`);
    } catch (error) {
      throw new CliError(`cannot write ${out}: ${(error as Error).message}`);
    }
    ctx.print('');
    ctx.print(`best configuration → ${out}  (use: movierec train --task ranking --preset ${out})`);
    // the chosen configuration once on the test part, for reference (not used to choose)
    const { model } = await trainRankingModel(ctx, trainPart, result.best.config, `refit ${family}`);
    const options = { protocol: 'temporal' as const, k, dataName: dataset.name };
    const test = evaluateRanking(model, outer.train, outer.test, options);
    const pop = evaluateRanking(popularityModel(trainPart), outer.train, outer.test, options);
    ctx.print('');
    ctx.print('On the test part (temporal protocol), for reference:');
    ctx.print(
      rankingTable([
        { name: `${family} (tuned)`, r: test },
        { name: 'baseline: popularity', r: pop },
      ]),
    );
    return {
      family,
      metric: `${metric}@${k}`,
      best: result.best.config,
      validation: result.validation,
      leaderboard: result.leaderboard.map((t) => ({
        trial: t.index,
        score: t.score,
        params: t.params,
        seconds: t.seconds,
        ...rankingMetricNames(t.metrics),
      })),
      out,
      test: rankingMetricNames(test),
      popularity: rankingMetricNames(pop),
    };
  },
};
