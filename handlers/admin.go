package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"festa/components"
)

// showAdmin is the council console's overview.
func (h *Handler) showAdmin(c echo.Context) error {
	return h.render(c, http.StatusOK, components.AdminLayout(h.page(c, tr(c, "admin.nav.title")), "overview"))
}
