/* The shop's service worker: keeps the look of the shop and an offline page, and shows that
   page when a navigation fails for want of a network. Everything else goes to the network. */
'use strict';

const CACHE = 'shop-' + {{ version | tojson }};
const OFFLINE_URL = new URL({{ offline_url | tojson }}, self.location).href;
const ASSETS = {{ assets | tojson }}.map((asset) => new URL(asset, self.location).href);
const STATIC_PATH = '/static/';

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll([OFFLINE_URL, ...ASSETS]))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys
        .filter((key) => key.startsWith('shop-') && key !== CACHE)
        .map((key) => caches.delete(key))))
      .then(() => self.clients.claim())
  );
});

function isStatic(url) {
  return ASSETS.includes(url.href) ||
    (url.origin === self.location.origin && url.pathname.startsWith(STATIC_PATH));
}

function fromCacheThenNetwork(request) {
  return caches.match(request).then((cached) => cached || fetch(request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(request, copy));
    }
    return response;
  }));
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') {
    return;
  }
  if (request.mode === 'navigate') {
    // Pages are personal and change often: always the network, the offline page without it.
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE_URL)));
    return;
  }
  if (isStatic(new URL(request.url))) {
    event.respondWith(fromCacheThenNetwork(request));
  }
});
