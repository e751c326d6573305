package handlers

import "github.com/labstack/echo/v4"

func (h *Handler) showPerformance(c echo.Context) error { return echo.ErrNotFound }
func (h *Handler) holdSeat(c echo.Context) error        { return echo.ErrNotFound }
func (h *Handler) holdBestSeat(c echo.Context) error    { return echo.ErrNotFound }
func (h *Handler) releaseSeat(c echo.Context) error     { return echo.ErrNotFound }
func (h *Handler) confirmHold(c echo.Context) error     { return echo.ErrNotFound }
func (h *Handler) listTickets(c echo.Context) error     { return echo.ErrNotFound }
func (h *Handler) showTicket(c echo.Context) error      { return echo.ErrNotFound }
func (h *Handler) ticketQR(c echo.Context) error        { return echo.ErrNotFound }
func (h *Handler) cancelTicket(c echo.Context) error    { return echo.ErrNotFound }
