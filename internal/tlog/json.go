package tlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// jsonErr rewrites encoding/json errors so that they name the field.
func jsonErr(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Errorf("field %s: %s is not a %s", te.Field, te.Value, te.Type)
		}
		return fmt.Errorf("%s is not a %s", te.Value, te.Type)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("not JSON at byte %d: %v", se.Offset, se)
	}
	if errors.Is(err, io.EOF) {
		return errors.New("empty body")
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "json: unknown field ") {
		return fmt.Errorf("unknown field %s", strings.TrimPrefix(msg, "json: unknown field "))
	}
	// Hash.UnmarshalJSON says "cannot decode hash" without the field.
	if strings.Contains(msg, "cannot decode hash") {
		return errors.New("field hashes: an element is not 32 bytes of standard base64")
	}
	return err
}
