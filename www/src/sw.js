// The playground's service worker: after one visit the page, both wasm builds and their
// workers are in a Cache, so the playground (and a shared link: the workspace is in the hash)
// opens with no network. The build (vite.config.js, `precache`) writes the list of its
// content-hashed files and a version over them into this file as dist/sw.js, so every new
// build is a new service worker that fetches the new files and drops the old cache.
//
// The page is network-first (a reachable server always serves the newest build; the copy
// kept is the last one seen, with its COOP/COEP headers, so the page is isolated offline
// too); the hashed files are cache-first (a name never changes content).

const FILES = self.__PRECACHE__;
const PREFIX = 'ligature-playground-';
const CACHE = PREFIX + self.__VERSION__;
const PAGE = new URL('./', self.location).href;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(FILES.map((file) => new Request(new URL(file, self.location), { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) if (key.startsWith(PREFIX) && key !== CACHE) await caches.delete(key);
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(request.mode === 'navigate' ? page(request) : file(request));
});

async function page(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && new URL(request.url).pathname === new URL(PAGE).pathname) await cache.put(PAGE, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(PAGE, { ignoreVary: true });
    if (kept) return kept;
    throw error;
  }
}

async function file(request) {
  const cache = await caches.open(CACHE);
  // ignoreVary: servers answer `Vary: Origin` (Vite's), and the page's module scripts send an
  // Origin that the install's requests did not; a hashed file is the same for every origin.
  const kept = await cache.match(request, { ignoreSearch: true, ignoreVary: true });
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok && response.type === 'basic') await cache.put(request, response.clone());
  return response;
}
