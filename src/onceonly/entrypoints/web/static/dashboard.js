// Draws the manager's charts from the figures the page carries (no inline script: CSP).
(function () {
  "use strict";
  function draw() {
    const data = JSON.parse(document.getElementById("dashboard-data").textContent);
    // The labels come translated from the page, so a Welsh page has Welsh charts.
    const words = JSON.parse(document.getElementById("dashboard-words").textContent);
    const permit = "#1f6f43", deny = "#a4262c";  // contrast >= 4.5:1 on white
    Chart.defaults.font.size = 14;
    Chart.defaults.color = "#1f2937";
    Chart.defaults.animation = false;  // no motion (WCAG 2.3.3), and steady screenshots
    const stacked = { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } };
    new Chart(document.getElementById("chart-hours"), {
      type: "bar",
      data: { labels: data.hours, datasets: [
        { label: words.permitted, data: data.permits, backgroundColor: permit },
        { label: words.refused, data: data.refusals, backgroundColor: deny } ] },
      options: { responsive: true, scales: stacked },
    });
    new Chart(document.getElementById("chart-reasons"), {
      type: "bar",
      data: { labels: Object.keys(data.reasons), datasets: [
        { label: words.refusals, data: Object.values(data.reasons), backgroundColor: deny } ] },
      options: { indexAxis: "y", responsive: true, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    const agreements = Object.keys(data.agreements);
    new Chart(document.getElementById("chart-agreements"), {
      type: "bar",
      data: { labels: agreements.map((a) => (data.purposes[a] || words.agreement) + " (" + a + ")"), datasets: [
        { label: words.permitted, data: agreements.map((a) => data.agreements[a].permit || 0), backgroundColor: permit },
        { label: words.refused, data: agreements.map((a) => data.agreements[a].deny || 0), backgroundColor: deny } ] },
      options: { responsive: true, scales: stacked },
    });
    const receivers = Object.keys(data.deliveries || {});
    const of = (key) => receivers.map((r) => data.deliveries[r][key]);
    new Chart(document.getElementById("chart-delivery-times"), {
      type: "bar",
      data: { labels: receivers, datasets: [
        { label: "p50 (s)", data: of("p50"), backgroundColor: "#0b5cad" },
        { label: "p99 (s)", data: of("p99"), backgroundColor: "#5b2a86" } ] },
      options: { responsive: true, scales: { y: { beginAtZero: true, title: { display: true, text: words.seconds } } } },
    });
    new Chart(document.getElementById("chart-delivery-status"), {
      type: "bar",
      data: { labels: receivers, datasets: [
        { label: words.delivered, data: of("delivered"), backgroundColor: permit },
        { label: words.pending, data: of("pending"), backgroundColor: "#7a5800" },
        { label: words.failed, data: of("failed"), backgroundColor: deny } ] },
      options: { responsive: true, scales: stacked },
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
