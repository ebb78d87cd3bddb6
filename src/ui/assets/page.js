// Live updates without a reload: every 2 s the same URL is fetched again and the
// summary and the table are swapped in (open traces stay open, the search box keeps
// what is typed); the data's age ticks every second; typing filters the rows at once.
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
  async function refresh() {
    try {
      const answer = await fetch(location.href, { cache: "no-store" });
      const fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
      const open = new Set([...document.querySelectorAll("details[open]")].map((d) => d.dataset.key));
      for (const id of ["summary", "live"]) {
        const next = fresh.getElementById(id);
        if (next) document.getElementById(id).replaceChildren(...next.childNodes);
      }
      for (const d of document.querySelectorAll("details[data-key]")) {
        if (open.has(d.dataset.key)) d.open = true;
      }
      document.title = fresh.title;
      document.body.classList.remove("unreachable");
    } catch (e) {
      document.body.classList.add("unreachable");
    }
    filter();
    tick();
  }
  q.addEventListener("input", filter);
  setInterval(tick, 1000);
  setInterval(refresh, REFRESH_MS);
  document.body.dataset.live = "on";
})();
