// pwa.js: the page side of festa's offline tickets (the worker is
// static/js/sw.js, served at /sw.js). Loaded with defer on every page.
//
// A page with a student signed in (body[data-student]) registers the worker
// for /tickets; a ticket page then asks it to keep the page, the list, the
// tickets it links to and every static file the page used, and marks
// <html data-offline="ready"> once they are kept. A page with no student
// signed in empties the tickets' cache and removes their worker: sign-out
// also answers Clear-Site-Data, and this covers a session that simply
// ended. Likewise a page with no staff member signed in removes the gate's
// (gate.js registers it for /gate): staff sign-out clears only the HTTP
// cache, since the door's unsent scans live in this origin's storage.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) return;

  if (!document.querySelector("[data-staff]")) forget("/gate", "festa-gate-");
  if (!document.body.hasAttribute("data-student")) {
    forget("/tickets", "festa-tickets-");
    return;
  }
  navigator.serviceWorker.register("/sw.js", { scope: "/tickets" }).catch(function () {
    // No worker (a private window, storage full): the tickets still work
    // online, so there is nothing to tell the student.
  });
  if (!/^\/tickets(\/|$)/.test(location.pathname)) return;

  navigator.serviceWorker.ready.then(function (reg) {
    // The list is where the installed app opens: always keep it.
    var urls = [location.pathname, "/tickets"];
    var links = document.querySelectorAll('a[href^="/tickets/"]');
    for (var i = 0; i < links.length; i++) urls.push(links[i].getAttribute("href"));
    // The files this page loaded (the fonts' subsets included), as the
    // browser fetched them.
    performance.getEntriesByType("resource").forEach(function (r) {
      var u = new URL(r.name);
      if (u.origin === location.origin && u.pathname.indexOf("/static/") === 0) urls.push(u.pathname);
    });
    var channel = new MessageChannel();
    channel.port1.onmessage = function (e) {
      if (e.data && e.data.kept) document.documentElement.setAttribute("data-offline", "ready");
    };
    reg.active.postMessage({ keep: urls }, [channel.port2]);
  });

  // forget removes one worker (by its scope) and its caches (by their
  // names' prefix), nothing else: the other worker, and the door's unsent
  // scans in localStorage, stay.
  function forget(scope, prefix) {
    if (window.caches) {
      caches.keys().then(function (keys) {
        keys.forEach(function (k) {
          if (k.indexOf(prefix) === 0) caches.delete(k);
        });
      });
    }
    navigator.serviceWorker.getRegistrations().then(function (regs) {
      regs.forEach(function (r) {
        if (new URL(r.scope).pathname === scope) r.unregister();
      });
    });
  }
})();
