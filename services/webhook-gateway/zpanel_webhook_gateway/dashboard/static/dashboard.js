// Zpanel dashboard: times in the browser's locale, regions that refresh themselves, the live log.
// No framework, no build step. Pages work without it; this only makes them live.
"use strict";

(function () {
  const BUSY_MS = 1500;   // refresh while something runs
  const IDLE_MS = 10000;  // otherwise, to notice new pushes

  function localize(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      const d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      el.title = el.getAttribute("datetime");
      el.textContent = d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
    });
  }

  function signInAgain() {
    const here = location.pathname + location.search;
    location.assign("/signin" + (here === "/" ? "" : "?next=" + encodeURIComponent(here)));
  }

  async function fetchPart(url) {
    const r = await fetch(url, { headers: { "X-Zpanel-Partial": "1" }, credentials: "same-origin", cache: "no-store" });
    if (r.status === 401) { signInAgain(); return null; }
    if (!r.ok) throw new Error(url + ": " + r.status);
    return r.text();
  }

  function fromHtml(html) {
    const tpl = document.createElement("template");
    tpl.innerHTML = html.trim();
    return tpl.content.firstElementChild;
  }

  // --- regions marked data-live="/partials/…" refresh themselves -------------------------------
  const timers = new WeakMap();

  async function refresh(el) {
    if (!el.isConnected) return;
    clearTimeout(timers.get(el));
    let next = el;
    try {
      const html = await fetchPart(el.dataset.live);
      if (html === null) return;
      const fresh = fromHtml(html);
      if (fresh && el.isConnected) {
        if (el.contains(document.activeElement) && document.activeElement.tagName === "INPUT") {
          next = el; // do not pull a field out from under the user's cursor
        } else {
          el.replaceWith(fresh);
          localize(fresh);
          bind(fresh);
          next = fresh;
        }
      }
    } catch (e) {
      console.warn("zpanel: refresh failed", e);
    }
    schedule(next);
  }

  function schedule(el) {
    const busy = el.dataset.busy === "1";
    if (!busy && el.dataset.status) return; // a finished deployment no longer changes
    timers.set(el, setTimeout(function () {
      if (document.visibilityState === "hidden") { schedule(el); return; }
      refresh(el);
    }, busy ? BUSY_MS : IDLE_MS));
  }

  function refreshAll() {
    document.querySelectorAll("[data-live]").forEach(refresh);
  }

  // --- regions loaded once (server checks), with a button to load again ------------------------
  async function load(el) {
    el.setAttribute("aria-busy", "true");
    try {
      const html = await fetchPart(el.dataset.load);
      if (html !== null) { el.innerHTML = html; localize(el); }
    } catch (e) {
      el.textContent = "could not run the check: " + e.message;
    }
    el.removeAttribute("aria-busy");
  }

  // --- forms: confirm where asked, and one submit per click ------------------------------------
  function bind(root) {
    root.querySelectorAll("form").forEach(function (form) {
      if (form.dataset.bound) return;
      form.dataset.bound = "1";
      form.addEventListener("submit", function (ev) {
        if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { ev.preventDefault(); return; }
        form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
      });
    });
    root.querySelectorAll(".js-recheck").forEach(function (btn) {
      btn.addEventListener("click", function () {
        const target = document.getElementById(btn.dataset.target);
        if (target) load(target);
      });
    });
  }

  // --- the live log -----------------------------------------------------------------------------
  function followLog(pre) {
    const state = document.getElementById("log-state");
    const follow = document.getElementById("log-follow");
    let finished = false;
    let tries = 0;

    function say(text, cls) {
      state.textContent = text;
      state.className = cls || "muted";
    }

    function add(msg) {
      const line = document.createElement("span");
      line.className = "ln s-" + (msg.stream || "system");
      const ts = document.createElement("span");
      ts.className = "ts";
      const d = new Date(msg.ts);
      ts.textContent = isNaN(d) ? "" : d.toLocaleTimeString();
      const stage = document.createElement("span");
      stage.className = "stg";
      stage.textContent = msg.stage || "";
      line.append(ts, stage, document.createTextNode(msg.line));
      pre.append(line, "\n");
      if (follow && follow.checked) pre.scrollTop = pre.scrollHeight;
    }

    function open() {
      const scheme = location.protocol === "https:" ? "wss://" : "ws://";
      const ws = new WebSocket(scheme + location.host + pre.dataset.ws);
      ws.onopen = function () { say("following the log…", "muted live"); };
      ws.onmessage = function (ev) {
        let msg;
        try { msg = JSON.parse(ev.data); } catch (e) { return; }
        tries = 0;
        if (msg.error) { finished = true; say(msg.error.message, "problem"); return; }
        if (msg.status) {
          finished = true;
          say("log complete · " + msg.status, "done s-" + msg.status);
          pre.dataset.final = msg.status;
          refreshAll();
          return;
        }
        if (typeof msg.line === "string") add(msg);
      };
      ws.onclose = function (ev) {
        if (finished) return;
        if (ev.code === 4401) { signInAgain(); return; }
        tries += 1;
        say("connection lost; reconnecting…", "problem");
        // a new socket replays the whole log, so start from an empty view
        setTimeout(function () { pre.textContent = ""; open(); }, Math.min(1000 * tries, 10000));
      };
    }
    open();
  }

  document.addEventListener("DOMContentLoaded", function () {
    localize(document);
    bind(document);
    document.querySelectorAll("[data-live]").forEach(schedule);
    document.querySelectorAll("[data-load]").forEach(load);
    const log = document.getElementById("log");
    if (log && log.dataset.ws) followLog(log);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") refreshAll();
    });
  });
})();
