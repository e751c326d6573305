package handlers

import "github.com/labstack/echo/v4"

// Placeholders until live updates land.

func (h *Handler) watchPerformance(c echo.Context) error { return echo.ErrNotFound }
func (h *Handler) watchHome(c echo.Context) error        { return echo.ErrNotFound }
