// Draws the usage page's charts with uPlot from /portal/usage.json. Progressive
// enhancement: the tables below the charts hold the same numbers without JavaScript.
// Each chart element gets data-total (requests drawn) once drawn, for tests and tools.
(() => {
  const root = document.getElementById("usage-charts");
  if (!root || typeof uPlot === "undefined") return;
  const palette = ["#4f46e5", "#0891b2", "#16a34a", "#ea580c", "#db2777", "#7c3aed", "#ca8a04", "#475569"];
  const draw = (el, chart, series) => {
    el.textContent = "";
    const total = series.reduce((sum, s) => sum + s.values.reduce((a, b) => a + b, 0), 0);
    el.dataset.total = String(total);
    if (series.length === 0) {
      el.insertAdjacentHTML("beforeend", '<p class="muted">No requests in this window yet.</p>');
      return;
    }
    const width = Math.max(280, el.clientWidth || 480);
    const opts = {
      width,
      height: 220,
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(4, max)] } },
      // Requests are whole numbers: no 0.25 ticks.
      axes: [{}, { size: 50, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 1e7, 1e8] }],
      legend: { live: true },
      series: [{}].concat(
        series.map((s, i) => ({
          label: s.label,
          stroke: palette[i % palette.length],
          fill: palette[i % palette.length] + "22",
          width: 2,
          points: { show: chart.buckets.length <= 31 },
        })),
      ),
    };
    return new uPlot(opts, [chart.buckets].concat(series.map((s) => s.values)), el);
  };
  fetch(root.dataset.src, { credentials: "same-origin", headers: { accept: "application/json" } })
    .then((res) => (res.ok ? res.json() : Promise.reject(new Error(`usage: ${res.status}`))))
    .then((data) => {
      root.dataset.loaded = "true";
      const plots = [];
      for (const el of root.querySelectorAll(".chart")) {
        const chart = data[el.dataset.granularity];
        const plot = draw(el, chart, chart[el.dataset.by]);
        if (plot) plots.push([el, plot]);
      }
      window.addEventListener("resize", () => {
        for (const [el, plot] of plots) plot.setSize({ width: Math.max(280, el.clientWidth), height: 220 });
      });
    })
    .catch((e) => {
      root.dataset.loaded = "error";
      root.insertAdjacentHTML("afterbegin", '<p class="error" role="alert">The charts could not load; the tables below have the same numbers.</p>');
      console.error(e);
    });
})();
