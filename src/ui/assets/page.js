// Live updates without a reload: 2 s after the last answer the same URL is fetched
// again and the summary and the table are swapped in (open traces stay open, focus
// stays where it was, the search box keeps what is typed; nothing moves while text is
// selected); the data's age ticks every second; typing filters the rows at once.
(() => {
  "use strict";
  const REFRESH_MS = 2000;
  const q = document.getElementById("q");
  const text = (s) => s < 60 ? s + " s" : s < 3600 ? Math.floor(s / 60) + " min"
    : s < 86400 ? Math.floor(s / 3600) + " h " + Math.floor(s % 3600 / 60) + " min"
    : Math.floor(s / 86400) + " d " + Math.floor(s % 86400 / 3600) + " h";
  const secondsSince = (ms) => Math.max(0, Math.floor((Date.now() - ms) / 1000));
  function tick() {
    const age = document.getElementById("age");
    if (age && age.dataset.readAt) {
      const s = secondsSince(+age.dataset.readAt);
      age.querySelector(".n").textContent = s;
      const stale = s > +age.dataset.maxAge;
      age.classList.toggle("stale", stale);
      age.querySelector(".why").textContent = stale ? ": stale, Connect has not answered since" : "";
    }
    for (const el of document.querySelectorAll(".since[data-since]")) {
      if (+el.dataset.since) el.textContent = "for " + text(secondsSince(+el.dataset.since));
    }
  }
  function filter() {
    const needle = q.value.trim().toLowerCase();
    for (const tr of document.querySelectorAll("#live tbody tr")) {
      tr.hidden = needle !== "" && !tr.dataset.search.includes(needle);
    }
  }
  // What has the keyboard focus, as something the swapped-in page also has.
  function focusKey() {
    const el = document.activeElement;
    const chip = el && el.closest("a.chip");
    if (chip) return { chip: chip.getAttribute("href") };
    const folded = el && el.closest("details[data-key]");
    if (folded) return { details: folded.dataset.key };
    const rel = el && el.closest("a[rel]");
    return rel ? { rel: rel.getAttribute("rel") } : null;
  }
  function refocus(key) {
    if (!key) return;
    const all = (selector) => [...document.querySelectorAll(selector)];
    const el = key.chip ? all("a.chip").find((c) => c.getAttribute("href") === key.chip)
      : key.details ? all("details[data-key]").find((d) => d.dataset.key === key.details)?.querySelector("summary")
      : all("a[rel]").find((a) => a.getAttribute("rel") === key.rel);
    if (el) el.focus();
  }
  async function refresh() {
    try {
      const answer = await fetch(location.href, { cache: "no-store", signal: AbortSignal.timeout(REFRESH_MS * 2) });
      if (!answer.ok) throw new Error("status " + answer.status);
      const fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
      // Someone selecting text (a trace to copy) keeps the page as it is until done.
      if (String(window.getSelection()).length === 0) {
        const open = new Set([...document.querySelectorAll("details[open]")].map((d) => d.dataset.key));
        const focused = focusKey();
        for (const id of ["summary", "live"]) {
          const next = fresh.getElementById(id);
          if (next) document.getElementById(id).replaceChildren(...next.childNodes);
        }
        for (const d of document.querySelectorAll("details[data-key]")) {
          if (open.has(d.dataset.key)) d.open = true;
        }
        refocus(focused);
        document.title = fresh.title;
      }
      document.body.classList.remove("unreachable");
    } catch (e) {
      document.body.classList.add("unreachable");
    }
    filter();
    tick();
    setTimeout(refresh, REFRESH_MS);
  }
  q.addEventListener("input", filter);
  setInterval(tick, 1000);
  setTimeout(refresh, REFRESH_MS);
  document.body.dataset.live = "on";
})();
