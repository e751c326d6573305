// festa.js: what htmx does not cover. Loaded with defer after htmx; no
// framework, no build step.
(function () {
  "use strict";

  // Every htmx request carries the CSRF token from the page head.
  document.addEventListener("htmx:configRequest", function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) e.detail.headers["X-CSRF-Token"] = meta.content;
  });

  // ------------------------------------------------------------ messages
  //
  // Every refusal reaches the student. The page's htmx-config swaps 4xx
  // and 5xx answers, and festa's answers to them are retargeted to
  // #messages (an alert, with the truth out of band). What never reaches
  // festa gets a message from the words on #messages: no network, no answer
  // in time, or an error page from something in between (a proxy's 502),
  // which is not swapped into the page.
  function messages() {
    var m = document.getElementById("messages");
    if (!m) {
      // A page without a message area still hears about failures.
      m = document.createElement("div");
      m.id = "messages";
      m.className = "messages-floating";
      m.setAttribute("aria-live", "polite");
      document.body.appendChild(m);
    }
    return m;
  }
  function shown(m) {
    var r = m.getBoundingClientRect();
    if (r.top < 0 || r.bottom > window.innerHeight) m.scrollIntoView({ block: "nearest" });
  }
  function tell(kind) {
    var m = messages(), words = document.querySelector("[data-label-" + kind + "]");
    var text = (words && words.getAttribute("data-label-" + kind)) || m.getAttribute("data-label-" + kind) || "";
    var box = document.createElement("div"), p = document.createElement("p"), x = document.createElement("button");
    box.className = "flash flash-error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    x.type = "button";
    x.className = "flash-close";
    x.setAttribute("data-dismiss", "");
    x.setAttribute("aria-label", (words && words.getAttribute("data-label-dismiss")) || "×");
    box.appendChild(p);
    box.appendChild(x);
    m.textContent = "";
    m.appendChild(box);
    shown(m);
  }
  document.addEventListener("htmx:beforeOnLoad", function (e) {
    var xhr = e.detail.xhr;
    if (xhr && xhr.getResponseHeader("HX-Retarget") === "#messages") messages();
  });
  document.addEventListener("htmx:beforeSwap", function (e) {
    var d = e.detail;
    if (!d.isError || (d.xhr && d.xhr.getResponseHeader("HX-Retarget"))) return;
    d.shouldSwap = false;
    tell("server");
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.target.id === "messages") shown(e.target);
  });
  document.addEventListener("htmx:sendError", function () {
    tell(navigator.onLine === false ? "offline" : "server");
  });
  document.addEventListener("htmx:timeout", function () { tell("timeout"); });
  document.addEventListener("click", function (e) {
    var x = e.target.closest && e.target.closest("[data-dismiss]");
    if (!x) return;
    var box = x.closest(".flash");
    if (box) box.remove();
  });

  // Back and forward: a page restored from the back/forward cache would
  // show what was true when it was left (a hold with a running countdown
  // and a confirm button, for a seat bought since). Pages with a student's
  // holds or tickets load afresh instead.
  window.addEventListener("pageshow", function (e) {
    if (e.persisted && document.querySelector("#hold-panel, [data-ticket]")) location.reload();
  });

  // The "booked" moment on the ticket page: read out (focus), and once: the
  // query that brought it is dropped from the address, so a reload or a
  // bookmark shows the plain ticket.
  function once() {
    var el = document.querySelector("[data-autofocus]");
    if (el) el.focus();
    var drop = document.querySelector("[data-drop-query]");
    if (drop && window.URL && history.replaceState) {
      var u = new URL(location.href);
      u.searchParams.delete(drop.getAttribute("data-drop-query"));
      history.replaceState(history.state, "", u.pathname + u.search + u.hash);
    }
  }
  once();

  // ------------------------------------------------------------ seat map
  //
  // The map (#seatmap) is a CSS grid: the stage, then per row a label,
  // --cols - 2 cells (a seat button or an <i> gap) and a label again, with
  // data-cols = --cols. Seats are found by position in that grid, so
  // nothing here holds on to a seat element: live updates replace seats,
  // and a full state after a (re)connect replaces the whole grid. What is
  // this page's own (the holder tag, the zoom) lives on the frame around
  // it, #seatmap-frame, which nothing replaces.

  function map() { return document.getElementById("seatmap"); }
  function frame() { return document.getElementById("seatmap-frame"); }
  function isSeat(el) { return !!el && el.nodeType === 1 && el.hasAttribute("data-seat"); }

  // "Mine": a held or sold seat whose data-holder is this page's student
  // is drawn as theirs. The server sends the same seat to every viewer; only
  // the page knows whose it is.
  function mine(el) {
    var f = frame(), tag = f && f.dataset.holderTag, st = el.dataset.state;
    if (!tag || el.dataset.holder !== tag || (st !== "held" && st !== "sold")) return;
    el.dataset.state = "mine";
    var sfx = f.dataset.mineSuffix, label = el.getAttribute("aria-label") || "";
    if (sfx && label.slice(-sfx.length) !== sfx) el.setAttribute("aria-label", label + " " + sfx);
  }

  // Roving tab stop: the map is one Tab stop; the arrow keys move inside.
  var stop = "";
  function roving() {
    var m = map();
    if (!m) return;
    var seats = m.querySelectorAll("[data-seat]"), cur = document.getElementById(stop);
    if (!isSeat(cur)) cur = m.querySelector('[data-seat][data-state="available"]') || seats[0];
    for (var i = 0; i < seats.length; i++) seats[i].tabIndex = seats[i] === cur ? 0 : -1;
    if (cur) stop = cur.id;
  }
  function moveTo(el) {
    var old = document.getElementById(stop);
    if (old) old.tabIndex = -1;
    el.tabIndex = 0;
    stop = el.id;
    el.focus();
  }
  document.addEventListener("focusin", function (e) {
    if (isSeat(e.target) && e.target.id !== stop && map() && map().contains(e.target)) moveTo(e.target);
  });

  // The seat nearest column c in row r, searching outwards; null when the
  // row has none.
  function nearest(kids, w, r, c) {
    for (var d = 0; d < w; d++) {
      var a = kids[1 + r * w + c - d], b = kids[1 + r * w + c + d];
      if (c - d > 0 && isSeat(a)) return a;
      if (c + d < w - 1 && isSeat(b)) return b;
    }
    return null;
  }
  function scan(kids, w, r, from, step) {
    for (var c = from; c > 0 && c < w - 1; c += step) {
      if (isSeat(kids[1 + r * w + c])) return kids[1 + r * w + c];
    }
    return null;
  }

  document.addEventListener("keydown", function (e) {
    var el = e.target, m = map();
    if (!isSeat(el) || !m || el.parentNode !== m || e.altKey || e.metaKey) return;
    var kids = m.children, w = +m.dataset.cols, i = Array.prototype.indexOf.call(kids, el) - 1;
    var rows = Math.floor((kids.length - 1) / w), r = Math.floor(i / w), c = i % w, to = null, k = e.key;
    if (k === "ArrowLeft") to = scan(kids, w, r, c - 1, -1);
    else if (k === "ArrowRight") to = scan(kids, w, r, c + 1, 1);
    else if (k === "Home" || k === "End") {
      if (e.ctrlKey) r = k === "Home" ? 0 : rows - 1;
      to = k === "Home" ? scan(kids, w, r, 1, 1) : scan(kids, w, r, w - 2, -1);
    } else {
      var step = { ArrowUp: -1, ArrowDown: 1, PageUp: -5, PageDown: 5 }[k];
      if (!step) return;
      // Jump step rows (clamped to the hall), then keep going the same way
      // past any row without seats.
      var dir = step < 0 ? -1 : 1;
      for (var rr = Math.max(0, Math.min(rows - 1, r + step)); !to && rr >= 0 && rr < rows && rr !== r; rr += dir) {
        to = nearest(kids, w, rr, c);
      }
    }
    e.preventDefault();
    if (to) moveTo(to);
  });

  // Zoom. Phones see the whole hall as an overview; a tap there zooms in
  // around the tapped point, to seats of at least 44 px (a thumb's
  // target), instead of picking a tiny seat. Zoomed, the frame is a window
  // onto the hall that fits between the toolbar and the dock and pans both
  // ways, and the minimap shows which part of the hall is in view (a tap or
  // a drag there pans to it). The toggle button zooms back out ("whole
  // hall") and in. Pinch zoom stays the browser's.
  var TAP = 44;
  var pointer = "mouse";
  document.addEventListener("pointerdown", function (e) { pointer = e.pointerType; }, true);

  function seatPx(m) {
    var s = m.querySelector("[data-seat]");
    var scale = window.visualViewport ? window.visualViewport.scale : 1;
    return s ? s.getBoundingClientRect().width * scale : 0;
  }
  function zoomed() { var f = frame(); return !!f && f.classList.contains("is-zoomed"); }
  function dock() { return document.querySelector(".dock"); }
  function toolbar() { return document.querySelector(".map-toolbar"); }

  // The zoomed frame's height: the screen less the toolbar above it and
  // the dock below it (on phones the dock sticks to the bottom), never so
  // small that nothing fits, never taller than the hall.
  function fitHeight() {
    var fr = frame(), m = map(), d = dock(), tb = toolbar();
    if (!fr || !m) return;
    var below = d && getComputedStyle(d).position === "sticky" && getComputedStyle(d).bottom === "0px" ? d.offsetHeight : 0;
    var above = tb ? tb.offsetHeight + 16 : 16;
    var h = Math.max(220, Math.min(window.innerHeight - below - above - 8, m.offsetHeight + 2));
    fr.style.setProperty("--map-h", h + "px");
  }

  function setZoom(on) {
    var fr = frame();
    fr.classList.toggle("is-zoomed", on);
    if (on) fitHeight();
    else fr.style.removeProperty("--map-h");
    var b = document.getElementById("zoom-toggle");
    if (b) {
      b.textContent = on ? b.dataset.labelOut : b.dataset.labelIn;
      b.setAttribute("aria-pressed", on ? "true" : "false");
    }
    var mm = document.getElementById("minimap");
    if (mm) mm.hidden = !on;
    drawMinimap();
  }

  // The toggle shows when the overview's seats are too small to tap.
  function zoomButton() {
    var m = map(), b = document.getElementById("zoom-toggle");
    if (m && b) b.hidden = !zoomed() && seatPx(m) >= TAP;
  }

  // Zoomed in, the page scrolls so the toolbar is at the top: the whole
  // window onto the hall is then between it and the dock.
  function bringUp() {
    var tb = toolbar() || frame();
    window.scrollBy(0, tb.getBoundingClientRect().top - 8);
  }

  // Pan the zoomed frame so the point (fx, fy), as fractions of the grid,
  // is in the middle of it.
  function panTo(fx, fy, smooth) {
    var fr = frame(), m = map();
    fr.scrollTo({
      left: fx * m.offsetWidth - fr.clientWidth / 2,
      top: fy * m.offsetHeight - fr.clientHeight / 2,
      behavior: smooth ? "smooth" : "auto"
    });
  }

  // Zoom in keeping the point (x, y) of the map in the middle of the view.
  function zoomAt(m, x, y) {
    var r = m.getBoundingClientRect();
    var fx = (x - r.left) / r.width, fy = (y - r.top) / r.height;
    setZoom(true);
    bringUp();
    panTo(fx, fy, false);
  }

  document.addEventListener("click", function (e) {
    var m = map(), t = e.target;
    if (!m) return;
    var fr = frame();
    if (t.id === "zoom-toggle") {
      if (zoomed()) {
        setZoom(false);
        if (fr.getBoundingClientRect().top < 0) (toolbar() || fr).scrollIntoView({ block: "start" });
      } else {
        var cur = document.getElementById(stop);
        setZoom(true);
        bringUp();
        if (cur && cur === document.activeElement) cur.scrollIntoView({ block: "center", inline: "center" });
        else panTo(0.5, 0, false);
      }
      return;
    }
    if (!fr.contains(t)) return;
    // A tap (e.detail > 0; Enter and Space give 0) on the overview zooms.
    if (e.detail && pointer !== "mouse" && !zoomed() && seatPx(m) < TAP) {
      e.preventDefault();
      zoomAt(m, e.clientX, e.clientY);
      return;
    }
    // A seat nobody can have asks nothing of the server; nor does any seat
    // of a locked map (before sales open, after they close).
    var seat = t.closest && t.closest("[data-seat]");
    if (seat && (seat.getAttribute("aria-disabled") === "true" || fr.dataset.sales)) e.preventDefault();
  });
  window.addEventListener("resize", function () {
    requestAnimationFrame(function () {
      zoomButton();
      if (zoomed()) fitHeight();
      drawMinimap();
    });
  });

  // The minimap: the hall in miniature, a dot per seat in its state's
  // colour, and a frame around the part in view. It is drawn on a canvas
  // (nothing per seat in the page), again when the frame pans, when the
  // map changes live, and on resize.
  var drawing = 0;
  function drawMinimap() {
    if (drawing) return;
    drawing = requestAnimationFrame(paintMinimap);
  }
  function paintMinimap() {
    drawing = 0;
    var c = document.getElementById("minimap"), m = map(), fr = frame();
    if (!c || !m || c.hidden) return;
    var w = +m.dataset.cols, kids = m.children, rows = Math.floor((kids.length - 1) / w);
    if (!w || !rows) return;
    // The canvas has the grid's proportions, about 7 rem wide.
    var cssW = Math.round(7 * parseFloat(getComputedStyle(document.documentElement).fontSize));
    var cssH = Math.round(cssW * m.offsetHeight / m.offsetWidth);
    var dpr = window.devicePixelRatio || 1;
    if (c.width !== Math.round(cssW * dpr) || c.height !== Math.round(cssH * dpr)) {
      c.width = Math.round(cssW * dpr);
      c.height = Math.round(cssH * dpr);
      c.style.width = cssW + "px";
      c.style.height = cssH + "px";
    }
    var g = c.getContext("2d"), css = getComputedStyle(document.documentElement);
    var colour = {
      available: css.getPropertyValue("--seat-free-line"), held: css.getPropertyValue("--held"),
      sold: css.getPropertyValue("--seat-sold"), blocked: css.getPropertyValue("--seat-blocked-line"),
      mine: css.getPropertyValue("--teal")
    };
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, cssW, cssH);
    // Grid cells: where the first one sits in the grid, and the pitch,
    // measured on the first row's second and third cells (the first is a
    // row label, which sticks to the frame's edge while zoomed).
    var grid = m.getBoundingClientRect(), a = kids[2].getBoundingClientRect(), b = kids[3].getBoundingClientRect();
    var pitch = b.left - a.left, sx = cssW / grid.width, sy = cssH / grid.height;
    var x0 = a.left - grid.left - pitch, y0 = a.top - grid.top, dot = Math.max(1, a.width * sx);
    g.fillStyle = css.getPropertyValue("--teal");
    g.globalAlpha = 0.5;
    g.fillRect(x0 * sx + pitch * sx, 1, (w - 2) * pitch * sx - (pitch - a.width) * sx, Math.max(2, (y0 - pitch) * sy * 0.4));
    g.globalAlpha = 1;
    for (var i = 1; i < kids.length; i++) {
      var el = kids[i];
      if (!isSeat(el)) continue;
      var r = Math.floor((i - 1) / w), col = (i - 1) % w;
      g.fillStyle = colour[el.dataset.state] || colour.blocked;
      g.fillRect((x0 + col * pitch) * sx, (y0 + r * pitch) * sy, dot, dot);
    }
    // The part of the hall in view.
    var f = fr.getBoundingClientRect();
    var vx = (f.left - grid.left) * sx, vy = (f.top - grid.top) * sy;
    g.strokeStyle = css.getPropertyValue("--text");
    g.lineWidth = 1.5;
    g.strokeRect(Math.max(0.75, vx), Math.max(0.75, vy),
      Math.min(cssW - 1.5, fr.clientWidth * sx), Math.min(cssH - 1.5, fr.clientHeight * sy));
    c.dataset.view = [vx / cssW, vy / cssH, fr.clientWidth * sx / cssW, fr.clientHeight * sy / cssH]
      .map(function (n) { return n.toFixed(3); }).join(",");
  }
  document.addEventListener("scroll", function (e) {
    if (e.target === frame()) drawMinimap();
  }, true);

  // A tap or a drag on the minimap pans there.
  var panning = false;
  function panFromMinimap(e) {
    var c = e.currentTarget, r = c.getBoundingClientRect();
    panTo((e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height, e.type === "pointerdown");
  }
  function initMinimap() {
    var c = document.getElementById("minimap");
    if (!c || c.dataset.ready) return;
    c.dataset.ready = "true";
    c.addEventListener("pointerdown", function (e) {
      panning = true;
      c.setPointerCapture(e.pointerId);
      panFromMinimap(e);
      e.preventDefault();
    });
    c.addEventListener("pointermove", function (e) { if (panning) panFromMinimap(e); });
    c.addEventListener("pointerup", function () { panning = false; });
    c.addEventListener("pointercancel", function () { panning = false; });
  }

  // Desktops: a seat under the mouse shows its label and state in a
  // tooltip (one element for the whole map, filled from the seat's name).
  var tip = null;
  document.addEventListener("pointerover", function (e) {
    var seat = e.pointerType === "mouse" && e.target.closest && e.target.closest("#seatmap [data-seat]");
    if (!seat) {
      if (tip && e.pointerType === "mouse") tip.hidden = true;
      return;
    }
    if (!tip) {
      tip = document.createElement("div");
      tip.className = "seat-tip";
      tip.setAttribute("aria-hidden", "true");
      tip.appendChild(document.createElement("b"));
      tip.appendChild(document.createElement("span"));
      document.body.appendChild(tip);
    }
    var name = seat.getAttribute("aria-label") || "", cut = name.lastIndexOf(", ");
    tip.firstChild.textContent = seat.dataset.seat;
    tip.lastChild.textContent = cut >= 0 ? name.slice(cut + 2) : "";
    tip.hidden = false;
    var r = seat.getBoundingClientRect();
    tip.style.left = r.left + r.width / 2 + "px";
    tip.style.top = r.top + "px";
  });
  document.addEventListener("scroll", function () { if (tip) tip.hidden = true; }, true);

  // Live changes. A seat swapped in out of band is checked for "mine",
  // keeps the tab stop and the focus if it had them, and pulses once, but
  // only when its state changed: the full state resent after a reconnect
  // must not light up the whole hall. The full state is the whole grid,
  // swapped as one element; its seats are compared with the old ones.
  // (htmx fires oobAfterSwap again for every element swapped earlier in
  // the same message, hence the pending maps. It also "settles" the class
  // attribute after the swap, which would wipe a class added here, so the
  // pulse waits for the settle: afterSettle for a request, wsAfterMessage
  // for the socket.)
  var was = new Map(), refocus = "", pulses = [], before = null;
  document.addEventListener("htmx:oobBeforeSwap", function (e) {
    var t = e.target, a = document.activeElement;
    if (t.id === "seatmap") {
      before = new Map();
      var seats = t.querySelectorAll("[data-seat]");
      for (var i = 0; i < seats.length; i++) before.set(seats[i].id, seats[i].dataset.state);
      if (isSeat(a) && t.contains(a)) refocus = a.id;
      return;
    }
    if (!isSeat(t)) return;
    was.set(t.id, t.dataset.state);
    if (t === a) refocus = t.id;
  });
  function swapped(el, old) {
    mine(el);
    lock(el);
    el.tabIndex = el.id === stop ? 0 : -1;
    if (el.id === refocus) {
      refocus = "";
      el.focus({ preventScroll: true });
    }
    if (old !== undefined && old !== el.dataset.state) pulses.push(el);
  }
  document.addEventListener("htmx:oobAfterSwap", function (e) {
    var el = e.target;
    if (el.id === "seatmap" && before) {
      var old = before, seats = el.querySelectorAll("[data-seat]");
      before = null;
      for (var i = 0; i < seats.length; i++) swapped(seats[i], old.get(seats[i].id));
      if (!document.getElementById(stop)) roving();
      return;
    }
    if (!isSeat(el) || !was.has(el.id)) return;
    var state = was.get(el.id);
    was.delete(el.id);
    swapped(el, state);
  });
  function pulse() {
    var els = pulses;
    pulses = [];
    els.forEach(function (el) {
      el.classList.add("pulse");
      el.addEventListener("animationend", function () {
        el.classList.remove("pulse");
      }, { once: true });
    });
  }
  document.addEventListener("htmx:afterSettle", pulse);
  document.addEventListener("htmx:wsAfterMessage", pulse);
  document.addEventListener("htmx:afterSettle", drawMinimap);
  document.addEventListener("htmx:wsAfterMessage", drawMinimap);

  // A locked map (before sales open, after they close: data-sales on the
  // frame) disables every seat. The page draws them so; seats and grids
  // arriving live are drawn for everyone, unlocked, and are locked here.
  function lock(el) {
    var f = frame();
    if (f && f.dataset.sales) el.setAttribute("aria-disabled", "true");
  }

  // The socket says where the page stands. Every message ends with
  // #live-version (the seat change version and the server time it brings
  // the page to); the ws extension reconnects to the URL it first read, so
  // each socket it opens gets the page's current position here instead,
  // and the server sends only what the page lacks.
  if (window.htmx && htmx.createWebSocket) {
    var open = htmx.createWebSocket;
    htmx.createWebSocket = function (url) {
      var at = document.getElementById("live-version");
      if (at && window.URL) {
        var u = new URL(url, location.href);
        if (u.searchParams.has("v")) {
          u.searchParams.set("v", at.dataset.v);
          u.searchParams.set("t", at.dataset.t);
          // And the sales banner it shows, so a pause or a resume missed
          // while the socket was down arrives first.
          var banner = document.querySelector("#sales-banner [data-key]");
          if (banner) u.searchParams.set("s", banner.getAttribute("data-key"));
          url = u.href;
        }
      }
      return open(url);
    };
  }

  // The sales banner arrives live (a pause, a resume). When it says sales
  // opened or closed while the map is drawn for the other case (the
  // council opened early, or closed), the page is drawn again: the map's
  // lock, the countdown and the hold panel all depend on it. Viewers
  // reload spread over two seconds, not all in the same instant.
  var salesReload = false;
  document.addEventListener("htmx:oobAfterSwap", function (e) {
    // The banner's inside is swapped, so the event fires on the new
    // elements; its detail names the banner as the target.
    var b = e.detail && e.detail.target;
    if (!b || b.id !== "sales-banner" || salesReload) return;
    var f = frame(), mark = b.querySelector("[data-sales]");
    if (!f || !mark) return;
    var st = mark.getAttribute("data-sales"), locked = st === "soon" || st === "closed" ? st : "";
    if (locked === (f.dataset.sales || "")) return;
    salesReload = true;
    setTimeout(function () { location.reload(); }, Math.random() * 2000);
  });

  // The live indicator follows the socket.
  function live(state) {
    var el = document.getElementById("live-status");
    if (!el || el.dataset.live === state) return;
    el.dataset.live = state;
    var text = el.querySelector("[data-live-text]");
    if (text) text.textContent = state === "open" ? el.dataset.labelOpen : el.dataset.labelClosed;
  }
  // A student waiting for an answer also holds the questions socket
  // ([data-questions-live]); it says nothing about the page's live view.
  function pageSocket(e) {
    return !(e.target && e.target.closest && e.target.closest("[data-questions-live]"));
  }
  document.addEventListener("htmx:wsOpen", function (e) { if (pageSocket(e)) live("open"); });
  document.addEventListener("htmx:wsClose", function (e) { if (pageSocket(e)) live("closed"); });

  // The list picker: the seat list holds the chosen row's free seats, read
  // from the live map (the server's list, every free seat by row, is the
  // no-script fallback). It refills when it gets focus, so it is never
  // older than the map.
  function fillPicker(form) {
    var row = form.querySelector("[data-pick-row]"), sel = form.querySelector("[data-pick-seat]"), m = map();
    if (!row || !sel || !m) return;
    var keep = sel.value, labels = m.querySelectorAll(".row-label"), start = null;
    for (var i = 0; i < labels.length && !start; i += 2) {
      if (labels[i].textContent === row.value) start = labels[i];
    }
    sel.textContent = "";
    for (var el = start && start.nextElementSibling; el && !el.classList.contains("row-label"); el = el.nextElementSibling) {
      if (isSeat(el) && el.dataset.state === "available") {
        var acc = el.dataset.kind === "accessible" ? form.dataset.labelAccessible : "";
        sel.add(new Option(el.dataset.seat + acc, el.dataset.seat));
      }
    }
    if (!sel.options.length) sel.add(new Option(form.dataset.labelNone, ""));
    sel.value = keep;
    if (sel.selectedIndex < 0) sel.selectedIndex = 0;
  }
  document.addEventListener("change", function (e) {
    if (e.target.hasAttribute("data-pick-row")) fillPicker(e.target.form);
  });
  document.addEventListener("focusin", function (e) {
    if (e.target.hasAttribute && e.target.hasAttribute("data-pick-seat")) fillPicker(e.target.form);
  });

  // After the hold panel is swapped: tell screen readers what happened,
  // and if the focus went away with the old panel, give it to the new
  // panel's main action.
  function panelSwapped(p, announce) {
    var say = document.getElementById("announce");
    if (say && announce) say.textContent = p.dataset.announce || "";
    var f = p.querySelector("[data-focus]");
    if (f && (!document.activeElement || document.activeElement === document.body)) f.focus({ preventScroll: true });
    var form = p.querySelector("[data-picker]");
    if (form) fillPicker(form);
  }
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.target.id === "hold-panel") panelSwapped(e.target, true);
  });
  // A refusal brings the true hold panel out of band; its message is the
  // announcement, so the panel's own stays unsaid.
  document.addEventListener("htmx:oobAfterSwap", function (e) {
    if (e.target.id === "hold-panel") panelSwapped(e.target, false);
  });

  function initMap() {
    var m = map();
    if (!m) return;
    var seats = m.querySelectorAll("[data-seat]");
    for (var i = 0; i < seats.length; i++) mine(seats[i]);
    roving();
    zoomButton();
    initMinimap();
    var form = document.querySelector("[data-picker]");
    if (form) fillPicker(form);
  }
  initMap();

  // Countdowns ([data-countdown-to] for an opening, [data-expires-at] for a
  // hold) run on server time: each measures once its offset from
  // data-server-now (on it, an ancestor, or anywhere in the page), so a
  // phone set wrong still opens on time; the error is the network delay,
  // late, never early. Unit words come from data-label-d/-h/-m/-s and
  // data-label-zero, so the text stays in the server's catalogue.
  var seen = new WeakMap(), timer = 0, reloading = false;

  function attr(el, name) {
    var src = el.closest("[" + name + "]") || document.querySelector("[" + name + "]");
    return src ? Date.parse(src.getAttribute(name)) : NaN;
  }

  function format(s, d) {
    var units = [
      [Math.floor(s / 86400), d.labelD || "d"],
      [Math.floor(s / 3600) % 24, d.labelH || "h"],
      [Math.floor(s / 60) % 60, d.labelM || "m"],
      [s % 60, d.labelS || "s"]
    ];
    var out = [];
    units.forEach(function (u, i) {
      if (!out.length && !u[0] && i < 3) return;
      out.push((out.length && u[0] < 10 ? "0" : "") + u[0] + u[1]);
    });
    return out.join(" ");
  }

  // At zero the element fires festa:zero. A hold's countdown then turns
  // the hold panel into the news (expire); any other reloads the page once,
  // unless it has data-no-reload. Only a countdown seen running does this,
  // so a page rendered after its moment cannot loop.
  function zero(el) {
    el.dispatchEvent(new CustomEvent("festa:zero", { bubbles: true }));
    if (el.hasAttribute("data-expires-at")) {
      expire(el);
      return;
    }
    if (reloading || el.hasAttribute("data-no-reload")) return;
    reloading = true;
    location.reload();
  }

  // The last stretch of a hold (data-warn-at seconds on an ancestor: 30,
  // or a third of a short hold) warns: the panel turns red, a line says
  // "12초 남음 — 지금 확정하세요" and follows the clock, and screen readers
  // hear it once, as an alert written when the warning starts.
  function warn(el, left) {
    var box = el.closest("[data-warn-at]"), panel = el.closest("#hold-panel");
    if (!box || !panel || left > +box.dataset.warnAt * 1000) return;
    var line = panel.querySelector("[data-hold-warning]");
    if (!line) return;
    var text = line.dataset.label.replace("{left}", format(Math.ceil(left / 1000), el.dataset));
    if (line.hidden) {
      panel.classList.add("is-warning");
      line.hidden = false;
      line.innerHTML = '<span aria-hidden="true"></span><span class="sr-only" role="alert"></span>';
      line.lastChild.textContent = text;
    }
    if (line.firstChild.textContent !== text) line.firstChild.textContent = text;
  }

  // A hold ran out: no reload (the map stays where the student left it).
  // The panel says so at once, then festa.js fetches the fresh panel, with
  // the seats it held out of band, a moment later (the page's clock can be
  // a second early). If that fails the notice stays and #messages says why.
  function expire(el) {
    var panel = el.closest("#hold-panel");
    if (!panel || panel.dataset.expired) return;
    panel.dataset.expired = "true";
    panel.classList.remove("is-warning");
    var note = document.createElement("div"), p = document.createElement("p");
    note.className = "hold-expired";
    p.setAttribute("role", "alert");
    p.textContent = panel.dataset.labelExpired || "";
    note.appendChild(p);
    var had = panel.contains(document.activeElement);
    panel.textContent = "";
    panel.appendChild(note);
    if (had) {
      p.tabIndex = -1;
      p.focus({ preventScroll: true });
    }
    var url = panel.dataset.expireUrl;
    if (!url || !window.htmx) return;
    setTimeout(function () {
      if (document.getElementById("hold-panel") === panel) htmx.ajax("GET", url, { source: panel, target: panel, swap: "outerHTML" });
    }, 1500);
  }

  function tick() {
    clearTimeout(timer);
    var next = 1000;
    var els = document.querySelectorAll("[data-countdown-to],[data-expires-at]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i], st = seen.get(el);
      if (!st) {
        var server = attr(el, "data-server-now");
        st = {
          to: Date.parse(el.getAttribute("data-countdown-to") || el.getAttribute("data-expires-at")),
          skew: isNaN(server) ? 0 : server - Date.now()
        };
        st.armed = st.to > Date.now() + st.skew;
        seen.set(el, st);
      }
      if (isNaN(st.to)) continue;
      var left = st.to - (Date.now() + st.skew);
      var text = left > 0 ? format(Math.ceil(left / 1000), el.dataset) :
        el.dataset.labelZero || format(0, el.dataset);
      if (el.textContent !== text) el.textContent = text;
      if (left > 0) {
        if (el.hasAttribute("data-expires-at")) warn(el, left);
        // Wake just after the next whole second of this countdown.
        next = Math.min(next, left % 1000 + 10);
      } else if (st.armed) {
        st.armed = false;
        zero(el);
      }
    }
    timer = setTimeout(tick, next);
  }

  // Catch up when a throttled background tab shows again, and start
  // countdowns htmx swaps in.
  document.addEventListener("visibilitychange", tick);
  document.addEventListener("htmx:afterSettle", tick);
  tick();
})();
