package handlers

import "github.com/labstack/echo/v4"

// Placeholders until sign-in lands; every one answers 404.

func (h *Handler) showLogin(c echo.Context) error      { return echo.ErrNotFound }
func (h *Handler) login(c echo.Context) error          { return echo.ErrNotFound }
func (h *Handler) logout(c echo.Context) error         { return echo.ErrNotFound }
func (h *Handler) showStaffLogin(c echo.Context) error { return echo.ErrNotFound }
func (h *Handler) staffLogin(c echo.Context) error     { return echo.ErrNotFound }
func (h *Handler) staffLogout(c echo.Context) error    { return echo.ErrNotFound }
