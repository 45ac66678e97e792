#!/usr/bin/env node
// @ts-check
'use strict';
/*
 * The golden's journey between workflow runs: the golden job publishes it to the generic package registry of a Gitea
 * owner (the private organisation by default), the nightly run fetches the newest complete one. An artifact cannot do
 * it: actions/download-artifact only sees its own run's artifacts (actions/download-artifact#3, go-gitea/gitea#33353).
 * Plain Node, no dependency: the nightly runs it right after checkout, before installing anything, so a missing
 * golden stops the run at once.
 *
 *   node .gitea/scripts/golden-registry.js publish DIR   (the golden job: DIR holds golden.dump, golden.list, manifest.json)
 *   node .gitea/scripts/golden-registry.js fetch DIR     (the nightly run: writes the newest complete golden into DIR)
 *
 * Settings (environment): GOLDEN_REGISTRY_URL (Gitea's root URL), GOLDEN_REGISTRY_OWNER (user or organisation),
 * GOLDEN_REGISTRY_TOKEN (an access token: write:package to publish, read:package to fetch), GOLDEN_REGISTRY_PACKAGE
 * (default erp-golden), GOLDEN_REGISTRY_KEEP (versions kept after a publish, default 3). Exit 0 done, 1 failed or no
 * golden, 2 configuration. The token is sent only to Gitea's own origin and never printed.
 *
 * Gitea's API, as its documentation and source give it (Gitea 1.17 and later; free-form versions since
 * go-gitea/gitea#20414):
 * - upload   PUT    /api/packages/{owner}/generic/{name}/{version}/{file}   201; 409 when the version holds that file
 * - download GET    /api/packages/{owner}/generic/{name}/{version}/{file}   200 (or a redirect to object storage)
 * - delete   DELETE /api/packages/{owner}/generic/{name}/{version}          204 (200 in early versions); all its files
 *   docs.gitea.com/usage/packages/generic; routers/api/packages/api.go and routers/api/packages/generic/generic.go
 * - list     GET    /api/v1/packages/{owner}?type=generic&q={name}&page=&limit=   one entry per version, `q` matches
 *   names by substring; GET /api/v1/packages/{owner}/generic/{name}/{version}/files gives each file's name, size and
 *   sha256 (routers/api/v1/packages/package.go, modules/structs/package.go)
 * - auth     header `Authorization: token <token>` (services/auth/oauth2.go parseToken); the package routes check the
 *   token's read:package / write:package scope (routers/api/packages/api.go reqPackageAccess). Actions' own job token
 *   cannot reach the package registry (go-gitea/gitea#23642), hence a token secret.
 */
const { createHash } = require('node:crypto');
const { createReadStream, createWriteStream } = require('node:fs');
const { chmod, mkdir, readFile, rename, rm, stat } = require('node:fs/promises');
const http = require('node:http');
const https = require('node:https');
const { join } = require('node:path');
const { pipeline } = require('node:stream/promises');

/** The golden's files, as `rehearse golden` writes them; the manifest goes last, so its presence marks a complete version. */
const FILES = Object.freeze(['golden.dump', 'golden.list', 'manifest.json']);
/** A version this script publishes: the golden's creation time (UTC, to the second) and the start of its content hash. */
const VERSION = /^\d{8}T\d{6}Z-[0-9a-f]{12}$/;
const DEFAULT_PACKAGE = 'erp-golden';
const DEFAULT_KEEP = 3;
const PAGE_SIZE = 50; // Gitea's default MAX_RESPONSE_ITEMS
const IDLE_TIMEOUT_MS = 120_000;

class RegistryError extends Error {
  /** @param {string} message @param {number} [exitCode] */
  constructor(message, exitCode = 1) {
    super(message);
    this.name = 'RegistryError';
    this.exitCode = exitCode;
  }
}

/**
 * The version a golden is published under, from its manifest: sortable by time, unique per content.
 * @param {unknown} manifest
 * @returns {string}
 */
function versionOf(manifest) {
  const { createdAt, root } = /** @type {{ createdAt?: unknown, root?: unknown }} */ (manifest ?? {});
  if (typeof root !== 'string' || !/^[0-9a-f]{64}$/.test(root)) {
    throw new RegistryError('the manifest has no sha256 `root`: is it a golden written by `rehearse golden`?');
  }
  const created = typeof createdAt === 'string' ? new Date(createdAt) : undefined;
  if (created === undefined || Number.isNaN(created.getTime())) {
    throw new RegistryError('the manifest has no valid `createdAt`: is it a golden written by `rehearse golden`?');
  }
  const stamp = created.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
  return `${stamp}-${root.slice(0, 12)}`;
}

/**
 * A version in the registry: its files' names, and (when listed from Gitea) each file's size and sha256.
 * @typedef {{ readonly name: string, readonly size: number, readonly sha256: string }} StoredFile
 * @typedef {{ readonly version: string, readonly files: readonly string[], readonly details?: readonly StoredFile[] }} StoredVersion
 */

/**
 * This script's versions of the package, newest first; anything else stored under the package name is left alone.
 * @param {readonly string[]} versions
 * @returns {string[]}
 */
function ownVersionsNewestFirst(versions) {
  return [...new Set(versions.filter((version) => VERSION.test(version)))].sort().reverse();
}

/** @param {StoredVersion} stored */
function isComplete(stored) {
  return FILES.every((file) => stored.files.includes(file));
}

/**
 * The version the nightly run takes: the newest complete one. A version still being uploaded lacks its manifest and
 * is passed over, so a golden job at work never leaves the nightly run without a golden.
 * @param {readonly StoredVersion[]} stored
 * @returns {StoredVersion | undefined}
 */
function newestComplete(stored) {
  const order = ownVersionsNewestFirst(stored.map((s) => s.version));
  return order.map((version) => stored.find((s) => s.version === version)).find((s) => s !== undefined && isComplete(s));
}

/**
 * What a publish deletes: complete versions beyond the newest `keep`, and incomplete ones older than the newest
 * complete version (left by a failed upload). Incomplete versions newer than that may be another upload at work.
 * @param {readonly StoredVersion[]} stored
 * @param {number} keep
 * @returns {string[]}
 */
function prunable(stored, keep) {
  const order = ownVersionsNewestFirst(stored.map((s) => s.version));
  const complete = order.filter((version) => stored.some((s) => s.version === version && isComplete(s)));
  const kept = new Set(complete.slice(0, keep));
  const newest = complete[0];
  return order.filter((version) => {
    if (kept.has(version)) return false;
    if (complete.includes(version)) return true;
    return newest !== undefined && version < newest;
  });
}

/**
 * @typedef {{ readonly url: URL, readonly owner: string, readonly name: string, readonly token: string, readonly keep: number }} Settings
 */

/**
 * @param {NodeJS.ProcessEnv} env
 * @returns {Settings}
 */
function settingsFrom(env) {
  /** @type {string[]} */
  const problems = [];
  /** @param {string} name @param {string} what */
  const required = (name, what) => {
    const value = env[name]?.trim();
    if (!value) problems.push(`${name} is not set: ${what}`);
    return value ?? '';
  };
  const rawUrl = required('GOLDEN_REGISTRY_URL', "give Gitea's root URL, e.g. https://gitea.arcodange.lab");
  const owner = required('GOLDEN_REGISTRY_OWNER', 'give the user or organisation whose package registry holds the golden');
  const token = required('GOLDEN_REGISTRY_TOKEN', 'give an access token with read:package (fetch) or write:package (publish)');
  const name = env['GOLDEN_REGISTRY_PACKAGE']?.trim() || DEFAULT_PACKAGE;
  const keepText = env['GOLDEN_REGISTRY_KEEP']?.trim() || String(DEFAULT_KEEP);
  const keep = Number(keepText);
  /** @type {URL | undefined} */
  let url;
  if (rawUrl) {
    try {
      url = new URL(rawUrl.endsWith('/') ? rawUrl : `${rawUrl}/`);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
    } catch {
      problems.push(`GOLDEN_REGISTRY_URL is not an http(s) URL (${rawUrl}): give Gitea's root URL`);
    }
  }
  if (owner && !/^[A-Za-z0-9_.-]+$/.test(owner)) problems.push(`GOLDEN_REGISTRY_OWNER is not a Gitea user or organisation name (${owner})`);
  if (!/^[A-Za-z0-9_.+-]+$/.test(name)) problems.push(`GOLDEN_REGISTRY_PACKAGE is not a generic package name (${name}): letters, digits, . _ + - only`);
  if (!Number.isInteger(keep) || keep < 2) problems.push(`GOLDEN_REGISTRY_KEEP must be a whole number of at least 2 (got ${keepText}): the version a nightly run is fetching must survive the next publish`);
  if (problems.length > 0 || url === undefined) throw new RegistryError(problems.join('\n'), 2);
  return { url, owner, name, token, keep };
}

/**
 * @typedef {{ status: number, body: string }} Answer
 * @typedef {{ token?: string, upload?: { path: string, size: number }, sink?: (response: http.IncomingMessage) => Promise<void> }} SendOptions
 */

/**
 * One HTTP exchange. GET follows redirects (Gitea may send a download to object storage), carrying the token only to
 * Gitea's own origin.
 * @param {string} method
 * @param {URL} url
 * @param {SendOptions} options
 * @param {number} [redirects]
 * @returns {Promise<Answer>}
 */
function send(method, url, options, redirects = 0) {
  return new Promise((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    /** @type {Record<string, string>} */
    const headers = { 'User-Agent': 'erp-rehearsal-golden-registry', Accept: 'application/json, */*' };
    if (options.token) headers['Authorization'] = `token ${options.token}`;
    if (options.upload) {
      headers['Content-Type'] = 'application/octet-stream';
      headers['Content-Length'] = String(options.upload.size);
    }
    const request = client.request(url, { method, headers, timeout: IDLE_TIMEOUT_MS }, (response) => {
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (method === 'GET' && status >= 300 && status < 400 && location && redirects < 5) {
        response.resume();
        const next = new URL(location, url);
        const token = next.origin === url.origin ? options.token : undefined;
        send(method, next, { ...options, token }, redirects + 1).then(resolve, reject);
        return;
      }
      if (options.sink && status === 200) {
        options.sink(response).then(() => resolve({ status, body: '' }), reject);
        return;
      }
      /** @type {Buffer[]} */
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url.origin} for ${IDLE_TIMEOUT_MS / 1000} s`)));
    request.on('error', (error) => reject(new RegistryError(`cannot reach the package registry at ${url.origin}: ${error.message}`)));
    if (options.upload) pipeline(createReadStream(options.upload.path), request).catch(reject);
    else request.end();
  });
}

/**
 * @param {Settings} settings
 * @param {string} path
 */
function at(settings, path) {
  return new URL(path.replace(/^\//, ''), settings.url);
}

/** @param {Settings} s @param {string} version @param {string} [file] */
function packagePath(s, version, file) {
  const base = `api/packages/${encodeURIComponent(s.owner)}/generic/${encodeURIComponent(s.name)}/${encodeURIComponent(version)}`;
  return file === undefined ? base : `${base}/${encodeURIComponent(file)}`;
}

/**
 * A refusal as one line that says what to do.
 * @param {Settings} s
 * @param {string} what
 * @param {Answer} answer
 * @param {string} scope
 */
function refused(s, what, answer, scope) {
  const detail = answer.body.trim().split('\n')[0]?.slice(0, 200) ?? '';
  if (answer.status === 401 || answer.status === 403) {
    return new RegistryError(`${what}: the package registry refused the token (HTTP ${answer.status}): give a token of a member of ${s.owner} with ${scope}`);
  }
  return new RegistryError(`${what}: HTTP ${answer.status}${detail ? ` (${detail})` : ''}`);
}

/**
 * Every version of the package and its files (only this script's versions are looked into).
 * @param {Settings} s
 * @param {{ filesOf: 'all' | 'until-complete' }} mode
 * @returns {Promise<StoredVersion[]>}
 */
async function listVersions(s, mode) {
  /** @type {string[]} */
  const versions = [];
  for (let page = 1; page <= 100; page += 1) {
    const query = new URLSearchParams({ type: 'generic', q: s.name, page: String(page), limit: String(PAGE_SIZE) });
    const answer = await send('GET', at(s, `api/v1/packages/${encodeURIComponent(s.owner)}?${query}`), { token: s.token });
    if (answer.status === 404) {
      throw new RegistryError(`no user or organisation ${s.owner} that this token can see: check GOLDEN_REGISTRY_OWNER and the token's owner`);
    }
    if (answer.status !== 200) throw refused(s, `listing ${s.owner}'s packages`, answer, 'read:package');
    const entries = /** @type {Array<{ type?: string, name?: string, version?: string }>} */ (JSON.parse(answer.body));
    for (const entry of entries) {
      if (entry.type === 'generic' && entry.name === s.name && typeof entry.version === 'string') versions.push(entry.version);
    }
    if (entries.length < PAGE_SIZE) break;
  }
  /** @type {StoredVersion[]} */
  const stored = [];
  for (const version of ownVersionsNewestFirst(versions)) {
    const path = `api/v1/packages/${encodeURIComponent(s.owner)}/generic/${encodeURIComponent(s.name)}/${encodeURIComponent(version)}/files`;
    const answer = await send('GET', at(s, path), { token: s.token });
    if (answer.status === 404) continue; // deleted meanwhile
    if (answer.status !== 200) throw refused(s, `listing the files of ${s.name} ${version}`, answer, 'read:package');
    const details = /** @type {StoredFile[]} */ (JSON.parse(answer.body));
    /** @type {StoredVersion} */
    const entry = { version, files: details.map((f) => f.name), details };
    stored.push(entry);
    if (mode.filesOf === 'until-complete' && isComplete(entry)) break;
  }
  return stored;
}

/**
 * @param {Settings} s
 * @param {string} version
 * @returns {Promise<boolean>} whether the version was there
 */
async function deleteVersion(s, version) {
  const answer = await send('DELETE', at(s, packagePath(s, version)), { token: s.token });
  if (answer.status === 404) return false;
  if (answer.status !== 204 && answer.status !== 200) throw refused(s, `deleting ${s.name} ${version}`, answer, 'write:package');
  return true;
}

/**
 * The golden job's part: uploads DIR's golden as a new version (manifest last), then keeps only the newest versions.
 * @param {Settings} s
 * @param {string} dir
 * @param {(line: string) => void} say
 */
async function publish(s, dir, say) {
  const manifestText = await readFile(join(dir, 'manifest.json'), 'utf8').catch((error) => {
    throw new RegistryError(`no golden in ${dir} (${error.code ?? error.message}): run \`npx rehearse golden --target live --out ${dir}\` first`);
  });
  /** @type {unknown} */
  let manifest;
  try {
    manifest = JSON.parse(manifestText);
  } catch {
    throw new RegistryError(`${join(dir, 'manifest.json')} is not JSON: make the golden again`);
  }
  const version = versionOf(manifest);
  const sizes = await Promise.all(FILES.map(async (file) => {
    const info = await stat(join(dir, file)).catch(() => undefined);
    if (!info?.isFile()) throw new RegistryError(`${join(dir, file)} is missing: make the golden again`);
    return info.size;
  }));
  let created = false;
  try {
    for (const [index, file] of FILES.entries()) {
      const answer = await send('PUT', at(s, packagePath(s, version, file)), { token: s.token, upload: { path: join(dir, file), size: sizes[index] ?? 0 } });
      if (answer.status === 409) throw new RegistryError(`${s.name} ${version} already holds ${file}: this golden was published before`);
      if (answer.status !== 201) throw refused(s, `uploading ${file} to ${s.name} ${version}`, answer, 'write:package');
      created = true;
    }
  } catch (error) {
    // A half-published version is never taken by a nightly run (no manifest), but it holds prod's data: remove it.
    // Only this job's own: a version that was there before (409 on its first file) is someone else's golden.
    if (created) await deleteVersion(s, version).catch(() => undefined);
    throw error;
  }
  say(`published the golden as ${s.owner}/${s.name} ${version}`);
  const stale = prunable(await listVersions(s, { filesOf: 'all' }), s.keep);
  for (const old of stale) await deleteVersion(s, old);
  say(stale.length > 0 ? `deleted ${stale.length} older version(s): ${stale.join(', ')}` : 'no older version to delete');
}

/**
 * The nightly run's part: the newest complete golden into DIR, each file checked against the registry's sha256.
 * @param {Settings} s
 * @param {string} dir
 * @param {(line: string) => void} say
 */
async function fetchGolden(s, dir, say) {
  const stored = await listVersions(s, { filesOf: 'until-complete' });
  const chosen = newestComplete(stored);
  if (chosen === undefined) {
    throw new RegistryError(`no golden in ${s.owner}'s package registry (generic package ${s.name}): run the rehearsal-golden workflow, then this run again`);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  for (const file of FILES) {
    const expected = chosen.details?.find((d) => d.name === file);
    const target = join(dir, file);
    const partial = `${target}.part`;
    const hash = createHash('sha256');
    let size = 0;
    const answer = await send('GET', at(s, packagePath(s, chosen.version, file)), {
      token: s.token,
      sink: async (response) => {
        response.on('data', (chunk) => {
          hash.update(chunk);
          size += chunk.length;
        });
        await pipeline(response, createWriteStream(partial, { mode: 0o600 }));
      },
    });
    if (answer.status !== 200) {
      await rm(partial, { force: true });
      throw refused(s, `downloading ${file} of ${s.name} ${chosen.version}`, answer, 'read:package');
    }
    const sha256 = hash.digest('hex');
    if (expected !== undefined && (expected.sha256 !== sha256 || expected.size !== size)) {
      await rm(partial, { force: true });
      throw new RegistryError(`${file} of ${s.name} ${chosen.version} arrived damaged (${size} bytes, sha256 ${sha256.slice(0, 12)}…; the registry has ${expected.size} bytes, ${expected.sha256.slice(0, 12)}…): run again`);
    }
    await rename(partial, target);
  }
  say(`golden ${chosen.version} from ${s.owner}/${s.name} in ${dir}`);
}

/**
 * @param {readonly string[]} argv
 * @param {NodeJS.ProcessEnv} env
 * @returns {Promise<number>} the exit status
 */
async function main(argv, env) {
  const [command, dir] = argv;
  try {
    if ((command !== 'publish' && command !== 'fetch') || !dir || argv.length !== 2) {
      throw new RegistryError('usage: golden-registry.js publish DIR | fetch DIR', 2);
    }
    const settings = settingsFrom(env);
    const say = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);
    if (command === 'publish') await publish(settings, dir, say);
    else await fetchGolden(settings, dir, say);
    return 0;
  } catch (error) {
    const known = error instanceof RegistryError;
    process.stderr.write(`${known ? error.message : `golden registry: ${error instanceof Error ? error.message : String(error)}`}\n`);
    return known ? error.exitCode : 1;
  }
}

module.exports = { FILES, VERSION, DEFAULT_KEEP, RegistryError, versionOf, newestComplete, prunable, settingsFrom, main };

if (require.main === module) {
  main(process.argv.slice(2), process.env).then((code) => {
    process.exitCode = code;
  });
}
