// desk.js: the printed ticket's page (/admin/desk/tickets/{id}/print).
// Its one button prints; the page is a plain document otherwise.
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest("[data-print]")) window.print();
  });
})();
