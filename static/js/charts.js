// Each chart's figure is JSON in its data-figure attribute (csm_platform/web/charts.py): drawn here, so that the
// pages run no inline script (Content-Security-Policy). Drawn once the layout is final, each chart fits its box;
// Plotly's "responsive" config redraws it when the window is resized.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.Plotly) {
    return;
  }
  document.querySelectorAll("div.chart[data-figure]").forEach(function (chart) {
    var figure = JSON.parse(chart.dataset.figure);
    window.Plotly.newPlot(chart, figure.data, figure.layout, figure.config);
  });
});
