// The workspace in a link: `#w1.<base64url of deflate-raw(JSON)>`. The JSON is versioned
// (`v`) and records the engine version that made it, so that a future format or engine can
// say what it opens. Compression is the platform's CompressionStream; nothing here parses
// or compresses by hand.

export const FORMAT_VERSION = 1;
const PREFIX = `#w${FORMAT_VERSION}.`;

async function pipe(bytes, stream) {
  const out = new Blob([bytes]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(out).arrayBuffer());
}

function toBase64Url(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text) {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** The hash of a link that restores `workspace` (made by `engineVersion`). */
export async function encodeWorkspace(workspace, engineVersion) {
  const json = JSON.stringify({ v: FORMAT_VERSION, engine: engineVersion, ...workspace });
  const packed = await pipe(new TextEncoder().encode(json), new CompressionStream('deflate-raw'));
  return PREFIX + toBase64Url(packed);
}

/** The workspace of a link's hash, or undefined when the hash holds none; throws when it is damaged. */
export async function decodeWorkspace(hash) {
  if (!hash.startsWith('#w')) return undefined;
  const dot = hash.indexOf('.');
  const version = Number(hash.slice(2, dot));
  if (version !== FORMAT_VERSION) throw new Error(`this link is of format ${version}; this playground reads format ${FORMAT_VERSION}`);
  const bytes = await pipe(fromBase64Url(hash.slice(dot + 1)), new DecompressionStream('deflate-raw'));
  const { v: _, ...workspace } = JSON.parse(new TextDecoder().decode(bytes));
  return workspace;
}
