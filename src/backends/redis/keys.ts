/**
 * Where everything lives in Redis. All keys start with the store's prefix (default `fmguard:`), so
 * several deployments can share one Redis; give each its own prefix. Caller-chosen names (ids,
 * account keys, scopes) only ever follow a namespace no fixed key shares, so an id such as `due`
 * cannot land on an index. In a Redis Cluster (option `cluster`) the prefix must carry a hash tag
 * (default `{fmguard}:`), so every key of a store is in one slot: the scripts touch keys they find
 * inside other keys (a reservation names its accounts) and shared indexes (`rz:due`), which only a
 * single slot allows. Each script declares the prefix as its one key, so the client routes it to
 * that slot's primary (script.ts). docs/scaling.md says what this means for spreading load.
 *
 *   l:<account>          hash   ledger account: `u:<dim>` used, `r:<dim>` reserved (integers)
 *   res:<id>             hash   reservation: x expiresAt, e 0|1 (expired: hold already released),
 *                               n lines, then k<i> d<i> a<i> l<i> (key, dim, amount, limit or '')
 *   rz:due               zset   active reservation ids by expiresAt (the sweep reads the due ones)
 *   rz:expired           zset   swept ids by expiresAt, remembered for a late settle, then purged
 *   rep:<key>            hash   repeat tracker: f fingerprint, c count
 *   b:<bucket>           hash   token bucket: t tokens (%.17g), u updatedAt; expires a window after its last use
 *   run:<id>             hash   run record
 *   runs, runs:a:<agent>, runs:t:<tenant>
 *                        zset   run index by startedAt; member `<15-digit creation seq>:<id>`
 *   runs:n               string creation counter
 *   runs:ended, runs:rolled
 *                        zset   ended runs by endedAt, member `<agent>\n<tenant>\n<index member>`: not yet
 *                               rolled, and rolled (ledger detail in the period totals) awaiting deletion
 *   rt:<day>             hash   period totals of rolled root runs: field `<tenant>\n<agent>\n<dim>` (and
 *                               `#runs`); rt:days the set of days. run:<id> and l:run:<id> expire after
 *                               the end with a run TTL; res:<id> after its timeout + retention + 1 h
 *   kills                hash   scope -> JSON KillInfo; changes are PUBLISHed on channel `kills`
 *   killv                hash   scope -> version of its last change (kept after a clear)
 *   killn                string the last version given out (Redis TIME in µs, or last + 1)
 *   apr:<id>, apk:<call>, ap:order, ap:n           approvals (see approvals.ts)
 *   al:s, al:v           hash   alarm state JSON and version per alarm name (see versioned.ts)
 *   br:s, br:v           hash   breaker state JSON and version per scope; changes on channel `breakers`
 *   m:series, mh:<series>, mz:<series>             metric datapoints (see metrics.ts)
 *   ak, akh, akr         hash   minted API keys: id -> info JSON (with the secret's sha256), sha256 -> id,
 *                               id -> revocation JSON (written once); see api-keys.ts
 */
export interface Keys {
  readonly prefix: string;
  readonly killChannel: string;
  readonly breakerChannel: string;
  readonly kills: string;
}

export function keysFor(prefix: string): Keys {
  return {
    prefix,
    killChannel: `${prefix}kills`,
    breakerChannel: `${prefix}breakers`,
    kills: `${prefix}kills`,
  };
}
