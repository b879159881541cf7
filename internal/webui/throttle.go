package webui

func init() {
	addRU(map[string]string{
		"Too many failed sign-ins. Try again after %s.": "Слишком много неудачных попыток входа. Повторите после %s.",
	})
}
