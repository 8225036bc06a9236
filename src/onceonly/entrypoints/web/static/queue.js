// Draws the work queue's chart from the counts the page carries (no inline script: CSP).
// Each bar is labelled with its name and count, so no meaning rests on colour.
(function () {
  "use strict";
  function draw() {
    const data = JSON.parse(document.getElementById("queue-data").textContent);
    // The labels come translated from the page, so a Welsh page has a Welsh chart.
    const words = JSON.parse(document.getElementById("queue-words").textContent);
    Chart.defaults.font.size = 14;
    Chart.defaults.color = "#0b0c0c";
    Chart.defaults.animation = false;  // no motion (WCAG 2.3.3), and steady screenshots
    new Chart(document.getElementById("chart-queue"), {
      type: "bar",
      data: { labels: words.labels, datasets: [
        { label: words.waiting, data: data.counts, backgroundColor: "#1d70b8",
          borderColor: "#0b0c0c", borderWidth: 1 } ] },
      options: { indexAxis: "y", responsive: true, plugins: { legend: { display: false } },
                 scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
