// sw.js: festa's service worker. It keeps the signed-in student's own
// tickets on the phone, so a ticket once seen opens at the gate without a
// network, and it keeps nothing else.
//
// festa serves this file at /sw.js and static/js/pwa.js registers it with
// the scope /tickets: it controls only the ticket pages, so the seat map,
// the booking requests and the staff pages never wait for a worker to
// start. What it stores, in one Cache Storage cache:
//
//   - /tickets, /tickets/{id} and /tickets/{id}/qr.png: network first, the
//     cached copy when the network fails (or is too slow to wait for with a
//     copy in hand). A ticket page carries its QR inline, so the page and
//     its files are enough to show it.
//   - /static/…: the hashed, immutable files those pages use (CSS, fonts,
//     scripts); cache first.
//
// The student's tickets must not outlive the session: a ticket address
// answered with a redirect (to the sign-in page) empties the cache, sign-out
// answers Clear-Site-Data (which removes the cache and this worker), and
// pwa.js empties it on any page that shows nobody signed in.
"use strict";

var CACHE = "festa-tickets-v1";

// The ticket addresses: ids are lowercase UUIDs (tickets.ParseID).
var TICKET = /^\/tickets(?:\/[0-9a-f-]{36}(?:\/qr\.png)?)?$/;

// How long a ticket page may take before the cached copy is shown instead;
// the network answer still refreshes the cache when it comes.
var PATIENCE_MS = 3000;

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (e) {
  e.waitUntil(
    caches
      .keys()
      .then(function (keys) {
        return Promise.all(
          keys
            .filter(function (k) { return k !== CACHE && k.indexOf("festa-") === 0; })
            .map(function (k) { return caches.delete(k); })
        );
      })
      .then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (e) {
  var req = e.request;
  if (req.method !== "GET") return;
  var url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (TICKET.test(url.pathname)) {
    // A query marks a one-off view (?new=1 right after booking): shown,
    // never stored, so the kept copy is the plain ticket.
    e.respondWith(ticket(e, url.pathname, url.search === ""));
  } else if (url.pathname.indexOf("/static/") === 0) {
    e.respondWith(asset(e, url.pathname));
  }
  // Anything else goes to the network untouched.
});

// ticket answers a ticket address from the network, storing what it gets,
// or from the cache when the network fails, answers with a server error or
// dawdles with a copy in hand.
function ticket(e, key, store) {
  var cached = function () {
    return caches.match(key, { cacheName: CACHE, ignoreVary: true });
  };
  var network = fetch(e.request).then(function (res) {
    return { res: res, stored: remember(key, res.clone(), store) };
  });
  // The copy is stored even when the cached answer went out first.
  e.waitUntil(network.then(function (n) { return n.stored; }, function () {}));
  var fresh = network.then(function (n) {
    if (n.res.status < 500) return n.res;
    return cached().then(function (c) { return c || n.res; });
  });
  var timer;
  var slow = new Promise(function (resolve) {
    timer = setTimeout(resolve, PATIENCE_MS);
  });
  return Promise.race([fresh, slow.then(cached)])
    .then(function (res) {
      clearTimeout(timer);
      // A slow network with nothing cached: wait for it after all.
      return res || fresh;
    })
    .catch(function (err) {
      clearTimeout(timer);
      return cached().then(function (res) {
        if (res) return res;
        throw err;
      });
    });
}

// remember stores a ticket response (when store is set), or forgets what
// it says is gone.
function remember(key, res, store) {
  return caches.open(CACHE).then(function (cache) {
    // A redirect (navigations see it opaque) means the session ended:
    // nothing of the last student stays behind.
    if (res.type === "opaqueredirect" || res.redirected) {
      return caches.delete(CACHE);
    }
    if (res.status === 200 && res.type === "basic") {
      return store ? cache.put(key, res) : null;
    }
    if (res.status === 404 || res.status === 401 || res.status === 403) {
      return cache.delete(key);
    }
  });
}

// asset answers a hashed static file from the cache, else from the network,
// keeping a copy: the name changes with the content, so a copy never goes
// stale.
function asset(e, key) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(key, { ignoreVary: true }).then(function (hit) {
      if (hit) return hit;
      return fetch(e.request).then(function (res) {
        if (res.status === 200 && res.type === "basic") {
          e.waitUntil(cache.put(key, res.clone()));
        }
        return res;
      });
    });
  });
}

// A ticket page asks, once it is shown, that it and everything it used be
// kept: on its first visit this worker did not control it yet. Only ticket
// addresses and static files are taken. The list of tickets is fetched
// afresh (a ticket may have been booked since it was kept), anything else
// only when missing: a page this worker served is stored already, and a
// page seen with a query (?new=1) is fetched plain. The reply tells the
// page it is ready to be seen offline.
self.addEventListener("message", function (e) {
  var urls = (e.data && e.data.keep) || [];
  var port = e.ports && e.ports[0];
  e.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return Promise.all(
        urls.map(function (u) {
          var url = new URL(u, self.location.origin);
          var key = url.pathname;
          if (url.origin !== self.location.origin) return null;
          if (!TICKET.test(key) && key.indexOf("/static/") !== 0) return null;
          var fetchIt = function () {
            return fetch(key, { credentials: "same-origin", redirect: "manual" }).then(function (res) {
              return TICKET.test(key) ? remember(key, res, true) : res.status === 200 && cache.put(key, res);
            });
          };
          if (key === "/tickets") return fetchIt();
          return cache.match(key, { ignoreVary: true }).then(function (hit) {
            return hit || fetchIt();
          });
        })
      ).then(
        function () { if (port) port.postMessage({ kept: true }); },
        function () { if (port) port.postMessage({ kept: false }); }
      );
    })
  );
});
