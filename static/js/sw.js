// sw.js: festa's service worker. It keeps the signed-in student's own
// tickets on the phone, so a ticket once seen opens at the gate without a
// network, and the gate's scanner on a door's phone, so a scanner once
// opened opens again when the Wi-Fi drops; it keeps nothing else.
//
// festa serves this file at /sw.js and registers it twice, as two workers
// with a scope each: static/js/pwa.js with the scope /tickets on a
// student's pages, static/js/gate.js with the scope /gate on the scanner.
// Two narrow scopes rather than one covering both: the smallest scope
// holding both is the whole site, and then the seat map, the booking
// requests and every other page would wait for a worker to start, at the
// minute sales open, for nothing. Each worker knows which it is from its
// scope, and keeps its own cache (festa-tickets-…, festa-gate-…).
//
// The tickets worker stores, in its Cache Storage cache:
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
//
// The gate worker stores the same way, network first with a shorter
// patience:
//
//   - GET /gate, the set-up (where the home screen opens it), and
//     /gate?performance=…&gate=…, the scanner of one door, stored under
//     one spelling of that address whatever encoding the link used; any
//     other query (?change=1) is shown, never stored.
//   - /static/…: gate.js, the stylesheets and fonts, and the vendored
//     barcode polyfill, its ZXing WebAssembly and @noble/ed25519, which
//     gate.js asks it to keep even before they are needed.
//
// Nothing else: POST /gate/scan, /gate/offline's JSON (gate.js keeps the
// list itself, in localStorage), /gate/lookup and the live socket go to
// the network untouched. The scanner page names the staff member: staff
// sign-out clears only the HTTP cache (Clear-Site-Data "cache"; the door's
// unsent scans in localStorage must stay), so pwa.js removes this cache
// and worker on any page that shows no staff member signed in, and a
// scanner address answered with a redirect empties the cache too.
"use strict";

// Which of the two workers this is, by the scope it was registered with.
var GATE = new URL(self.registration.scope).pathname === "/gate";

// Each worker's cache names start with its own prefix, so neither clears
// the other's when a new version takes over.
var PREFIX = GATE ? "festa-gate-" : "festa-tickets-";
var CACHE = PREFIX + "v1";

// The ticket addresses: ids are lowercase UUIDs (tickets.ParseID).
var TICKET = /^\/tickets(?:\/[0-9a-f-]{36}(?:\/qr\.png)?)?$/;

// How long a page may take before the cached copy is shown instead; the
// network answer still refreshes the cache when it comes. A door with a
// queue in front of it waits less than a student at the door.
var PATIENCE_MS = GATE ? 1500 : 3000;

// page says how this worker keeps the page at url: key, the address it is
// stored and looked up under, and store, whether an answer for url itself
// may be stored there. It is null for any address that is not this
// worker's page.
function page(url) {
  if (!GATE) {
    if (!TICKET.test(url.pathname)) return null;
    // A query marks a one-off view (?new=1 right after booking): shown,
    // never stored, so the kept copy is the plain ticket.
    return { key: url.pathname, store: url.search === "" };
  }
  if (url.pathname !== "/gate") return null;
  var q = url.searchParams, perf = q.get("performance"), door = q.get("gate"), n = 0;
  q.forEach(function () { n++; });
  if (n === 0) return { key: "/gate", store: true };
  if (perf && door && n === 2) {
    return { key: "/gate?" + new URLSearchParams({ performance: perf, gate: door }).toString(), store: true };
  }
  return { key: "/gate", store: false };
}

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
            .filter(function (k) { return k !== CACHE && k.indexOf(PREFIX) === 0; })
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
  var p = page(url);
  if (p) {
    e.respondWith(networkFirst(e, p.key, p.store));
  } else if (url.pathname.indexOf("/static/") === 0) {
    e.respondWith(asset(e, url.pathname));
  }
  // Anything else goes to the network untouched.
});

// networkFirst answers a page (a ticket address, or the scanner) from the
// network, storing what it gets under key, or from the cache when the
// network fails, answers with a server error or dawdles with a copy in
// hand.
function networkFirst(e, key, store) {
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

// remember stores a page's response (when store is set), or forgets what
// it says is gone.
function remember(key, res, store) {
  return caches.open(CACHE).then(function (cache) {
    // A redirect (navigations see it opaque) means the session ended:
    // nothing of the last student, or staff member, stays behind.
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

// A ticket page (or the scanner) asks, once it is shown, that it and
// everything it used be kept: on its first visit this worker did not
// control it yet. Only this worker's pages and static files are taken. The
// list of tickets is fetched afresh (a ticket may have been booked since it
// was kept), anything else only when missing: a page this worker served is
// stored already, and a page seen with a query (?new=1, ?change=1) is
// fetched plain. The reply tells the page it is ready to be seen offline.
self.addEventListener("message", function (e) {
  var urls = (e.data && e.data.keep) || [];
  var port = e.ports && e.ports[0];
  e.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return Promise.all(
        urls.map(function (u) {
          var url = new URL(u, self.location.origin);
          if (url.origin !== self.location.origin) return null;
          var p = page(url);
          var key = p ? p.key : url.pathname;
          if (!p && key.indexOf("/static/") !== 0) return null;
          var fetchIt = function () {
            return fetch(key, { credentials: "same-origin", redirect: "manual" }).then(function (res) {
              return p ? remember(key, res, true) : res.status === 200 && cache.put(key, res);
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
