package handlers

import "github.com/labstack/echo/v4"

// routes lists every method and path festa answers.
func (h *Handler) routes(e *echo.Echo) {
	e.GET("/", h.showHome)
	e.GET("/lang/:lang", h.switchLanguage)
	e.GET("/healthz", h.checkHealth)
	e.GET("/metrics", h.serveMetrics())
	e.GET("/static/*", h.serveStatic())

	// The installable app and offline tickets (pwa.go).
	e.GET("/sw.js", h.serveServiceWorker)
	e.GET("/manifest.webmanifest", h.serveManifest)
	e.GET("/favicon.ico", h.serveFavicon)

	// Sign-in (auth.go).
	e.GET("/login", h.showLogin)
	e.POST("/login", h.login)
	e.POST("/logout", h.logout)
	e.GET("/staff/login", h.showStaffLogin)
	e.POST("/staff/login", h.staffLogin)
	e.POST("/staff/logout", h.staffLogout)

	// Booking (performance.go, booking.go).
	e.GET("/p/:performance", h.showPerformance)
	e.POST("/p/:performance/hold", h.holdSeat, h.requireStudent)
	e.POST("/p/:performance/best", h.holdBestSeat, h.requireStudent)
	e.POST("/p/:performance/release", h.releaseSeat, h.requireStudent)
	e.POST("/p/:performance/confirm", h.confirmHold, h.requireStudent)

	// Live updates (live.go).
	e.GET("/ws/p/:performance", h.watchPerformance)
	e.GET("/ws/home", h.watchHome)

	// Tickets (tickets.go).
	e.GET("/tickets", h.listTickets, h.requireStudent)
	e.GET("/tickets/:id", h.showTicket, h.requireStudent)
	e.GET("/tickets/:id/qr.png", h.ticketQR, h.requireStudent)
	e.POST("/tickets/:id/cancel", h.cancelTicket, h.requireStudent)

	// The gate (gate.go): gate staff and the council.
	gate := h.requireStaff("gate", "council")
	e.GET("/gate", h.showGate, gate)
	e.POST("/gate/scan", h.scanTicket, gate)
	e.GET("/gate/lookup", h.lookupTickets, gate)
	e.GET("/gate/offline", h.offlineData, gate)
	e.GET("/ws/gate/:performance", h.watchGate, h.requireStaffSocket("gate", "council"))

	// The projection screen (screen.go): a council session or a display
	// key of the performance (?key=), for the page and its socket alike.
	e.GET("/screen/:performance", h.showScreen, h.requireScreenViewer)
	e.GET("/ws/screen/:performance", h.watchScreen, h.requireScreenViewer)

	// The questions inbox (questions.go, admin_questions.go): students ask,
	// the council answers, both live.
	e.GET("/questions", h.showQuestions, h.requireStudent)
	e.POST("/questions", h.askQuestion, h.requireStudent)
	e.GET("/questions/:id", h.showQuestion, h.requireStudent)
	e.GET("/ws/questions", h.watchMyQuestions)
	e.GET("/ws/admin/questions", h.watchInbox, h.requireStaffSocket("council"))

	// The council console (admin*.go): council accounts only. The group's
	// middleware also guards paths under /admin that match no route, so
	// they answer 404 only to the council.
	admin := e.Group("/admin", h.requireStaff("council"))
	admin.GET("", h.showAdmin)
	admin.GET("/stats", h.showAdminStats)

	// Sales control (admin_sales.go), the audit log (admin_audit.go) and
	// the exports (admin_exports.go).
	admin.POST("/p/:performance/open", h.openSales)
	admin.POST("/p/:performance/pause", h.pauseSales)
	admin.POST("/p/:performance/resume", h.resumeSales)
	admin.POST("/p/:performance/close", h.closeSales)
	admin.POST("/p/:performance/closing", h.setSalesClose)
	admin.GET("/p/:performance/attendees.csv", h.exportAttendees)
	admin.GET("/p/:performance/checkins.csv", h.exportCheckIns)
	admin.GET("/audit", h.showAudit)
	admin.GET("/audit.csv", h.exportAudit)

	// The traffic view: live viewers, page views, the funnel
	// (admin_traffic.go).
	admin.GET("/traffic", h.showTraffic)

	// Display keys of the projection screen (admin_keys.go).
	admin.GET("/screens", h.showScreens)
	admin.GET("/p/:performance/screen-keys", h.showScreenKeys)
	admin.POST("/p/:performance/screen-keys", h.createScreenKey)
	admin.POST("/p/:performance/screen-keys/:id/rotate", h.rotateScreenKey)
	admin.POST("/p/:performance/screen-keys/:id/revoke", h.revokeScreenKey)

	// Staff accounts (admin_staff.go).
	admin.GET("/staff", h.showStaff)
	admin.POST("/staff", h.addStaff)
	admin.POST("/staff/:id/disable", h.disableStaff)
	admin.POST("/staff/:id/enable", h.enableStaff)
	admin.POST("/staff/:id/role", h.setStaffRole)
	admin.POST("/staff/:id/password", h.resetStaffPassword)

	// Festival setup: the festival, halls from a text grid, performances
	// (admin_setup.go).
	admin.GET("/setup", h.showSetup)
	admin.POST("/setup/event", h.saveSetupEvent)
	admin.POST("/setup/halls/preview", h.previewHall)
	admin.POST("/setup/halls", h.createHall)
	admin.POST("/setup/performances", h.createPerformance)
	admin.GET("/setup/p/:id", h.editPerformance)
	admin.POST("/setup/p/:id", h.updatePerformance)

	// The ticket desk (admin_desk.go).
	admin.GET("/desk", h.showDesk)
	admin.GET("/desk/p/:performance/seats/:label", h.showDeskSeat)
	admin.POST("/desk/p/:performance/seats/:label/release", h.deskReleaseHold)
	admin.POST("/desk/p/:performance/seats/:label/reserve", h.deskReserveSeat)
	admin.POST("/desk/p/:performance/seats/:label/unreserve", h.deskUnreserveSeat)
	admin.POST("/desk/p/:performance/seats/:label/guest", h.deskIssueGuest)
	admin.GET("/desk/tickets/:id/print", h.printTicket)
	admin.POST("/desk/tickets/:id/cancel", h.deskCancelTicket)
	admin.POST("/desk/tickets/:id/move", h.deskMoveTicket)

	// The roster and access codes (admin_students.go).
	admin.GET("/students", h.showStudents)
	admin.POST("/students/import", h.importRoster)
	admin.POST("/students/codes", h.issueCodes)
	admin.POST("/students/reissue", h.reissueCode)

	// Students' questions and the canned answers (admin_questions.go).
	admin.GET("/questions", h.showInbox)
	admin.GET("/questions/:id", h.showInboxQuestion)
	admin.POST("/questions/:id/answer", h.answerQuestion)
	admin.GET("/questions/canned", h.fillCannedAnswer)
	admin.POST("/questions/canned", h.addCannedAnswer)
	admin.POST("/questions/canned/:id/delete", h.deleteCannedAnswer)
}
