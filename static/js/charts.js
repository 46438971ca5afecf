// Charts are drawn while the page is still being parsed, before the grid knows all its columns: once the layout
// is final, fit each chart to its box (Plotly's own "responsive" only follows window resizes).
document.addEventListener("DOMContentLoaded", function () {
  if (!window.Plotly) {
    return;
  }
  document.querySelectorAll(".plotly-graph-div").forEach(function (chart) {
    window.Plotly.Plots.resize(chart);
  });
});
