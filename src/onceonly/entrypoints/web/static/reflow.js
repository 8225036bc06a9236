// Tables that reflow on a phone show each cell with its column's heading; templates that do
// not write the heading beside each cell (data-label) have it copied here from the header.
function labelCells(root) {
  root.querySelectorAll("table.reflow").forEach((table) => {
    const headings = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    table.querySelectorAll("tbody tr").forEach((row) => {
      [...row.children].forEach((cell, i) => {
        if (!cell.hasAttribute("data-label") && headings[i] && !cell.hasAttribute("colspan")) {
          cell.setAttribute("data-label", headings[i]);
        }
      });
    });
  });
}
document.addEventListener("DOMContentLoaded", () => labelCells(document));
document.addEventListener("htmx:afterSwap", (event) => labelCells(event.target));
