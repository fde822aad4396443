/** Hostile documents the tests send (issue 10), built the way an attacker would write them. */

/** The document: `{ movie(id:"1"){...Fn} } fragment F0 on Movie{id} fragment Fk on Movie{...Fk-1 ...Fk-1}`. */
export function fragmentBomb(n: number): string {
  const parts = [`{ movie(id:"1"){...F${n}} } fragment F0 on Movie{id}`];
  for (let k = 1; k <= n; k++) parts.push(`fragment F${k} on Movie{...F${k - 1} ...F${k - 1}}`);
  return parts.join(' ');
}
