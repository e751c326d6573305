package components

// staffHome is where a signed-in staff member of role works: the council
// in its console, gate staff at the scanner. (For staff, Viewer.ID holds
// the role: handlers' staffViewer.)
func staffHome(role string) string {
	if role == "council" {
		return "/admin"
	}
	return "/gate"
}

// staffHomeLabel is the catalogue id naming staffHome(role).
func staffHomeLabel(role string) string {
	if role == "council" {
		return "admin.nav.title"
	}
	return "gate.title"
}
