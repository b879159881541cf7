package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/workflow"
)

// The dialogue part of the demo: an off-limits list both sign,
// an attack on one of its sectors reported by A with its infrastructure
// on B's territory, the assistance request routed to B and moved through
// its states, a hotline message, a communication check, a meeting whose
// minutes both sign, and the leadership summary.

// demoSectors are the sectors the demo's parties agree are off limits.
var demoSectors = []string{"energy", "healthcare-public", "water"}

// demoActor is the person acting on a demo node.
var demoActor = &dialogue.User{Name: demoUser, Role: dialogue.RoleExpert}

// agreeOffLimits has A propose the off-limits list in two languages and
// both parties sign it.
func (m *Main) agreeOffLimits(ctx context.Context, d *demoState) error {
	a, b := d.a.srv.Workflow, d.b.srv.Workflow
	id, err := a.ProposeStatement(ctx, d.channel.ID, workflow.StatementProposal{
		Kind: workflow.StatementOffLimits,
		Texts: map[string]string{
			"en": "The parties will not attack, and will help each other protect, the energy, healthcare and water systems of either party.",
			"ru": "Стороны не будут атаковать энергетические системы, системы здравоохранения и водоснабжения друг друга и будут помогать друг другу их защищать.",
		},
		Sectors: demoSectors,
	})
	if err != nil {
		return err
	}
	st, err := a.StatementByID(ctx, id)
	if err != nil {
		return err
	}
	if _, err := a.SignStatement(ctx, id, st.TextSHA256, demoUser+" (expert)"); err != nil {
		return err
	}
	if err := demoUntil(ctx, "party-b to receive the off-limits list", func() (bool, error) {
		_, err := b.StatementByID(ctx, id)
		return err == nil, nil
	}); err != nil {
		return err
	}
	if _, err := b.SignStatement(ctx, id, st.TextSHA256, demoUser+" (expert)"); err != nil {
		return err
	}
	if err := demoUntil(ctx, "both to see the off-limits list agreed", func() (bool, error) {
		s, err := a.StatementByID(ctx, id)
		return err == nil && s.State == "agreed", nil
	}); err != nil {
		return err
	}
	d.step("%s proposed an off-limits list (%s; in English and Russian); both signed its text hash sha256:%s…: agreed on both nodes",
		d.a.name, strings.Join(demoSectors, ", "), st.TextSHA256[:12])
	return nil
}

// requestAssistance has A route a request about the report to the party
// of the infrastructure's territory, B, which acknowledges and answers;
// A closes it.
func (m *Main) requestAssistance(ctx context.Context, d *demoState) error {
	a, b := d.a.srv.Workflow, d.b.srv.Workflow
	// The node's scheduler may have escalated the report already; either
	// way, what is written is told.
	if _, err := a.OffLimitsEscalations(ctx); err != nil {
		return err
	}
	if sum, err := a.Summary(ctx); err != nil {
		return err
	} else if sum.Counts.Escalations > 0 {
		d.step("the report hits an off-limits sector (energy): %s's node escalated it on its own: an escalation event and an urgent hotline notice", d.a.name)
		m.say(d)
	}
	routing, err := a.RouteRequest(ctx, d.a.srv.Geo, workflow.RouteFiling{
		About:          []string{d.reportID},
		Infrastructure: []string{demoC2, "192.0.2.77"},
		Text:           "The command-and-control server of this intrusion is on your territory. Please investigate it and, if you can, take it down.",
		Name:           "Take down the C2 server of the mail gateway intrusion",
	})
	if err != nil {
		return err
	}
	if len(routing.Requests) != 1 {
		return fmt.Errorf("the demo's request went to %d parties, want 1", len(routing.Requests))
	}
	reqID := routing.Requests[0].ID
	d.requestID = reqID
	r, err := a.Request(ctx, reqID)
	if err != nil {
		return err
	}
	d.step("%s asked for assistance: %s lies on %s's territory (%s, by the GeoIP database) so the request went to %s; %s is on %s's own and was kept as unrouted; deadlines ack %s, answer %s (the short ones: an off-limits sector is hit)",
		d.a.name, demoC2, d.b.name, routing.Requests[0].Territory, d.b.name, "192.0.2.77", d.a.name,
		r.AckDeadline.Sub(r.Submitted).Round(time.Minute), r.AnswerDeadline.Sub(r.Submitted).Round(time.Minute))
	m.say(d)
	until := func(node *workflow.Service, state dialogue.RequestState) error {
		return demoUntil(ctx, "the request to be "+string(state), func() (bool, error) {
			r, err := node.Request(ctx, reqID)
			return err == nil && r.State == state, nil
		})
	}
	if err := until(b, dialogue.RequestSubmitted); err != nil {
		return err
	}
	if _, err := b.MoveRequest(ctx, reqID, workflow.Move{Action: dialogue.ActionAcknowledge, Text: "Received; the duty officer has passed it to the network operators."}); err != nil {
		return err
	}
	if err := until(a, dialogue.RequestAcknowledged); err != nil {
		return err
	}
	if _, err := b.MoveRequest(ctx, reqID, workflow.Move{Action: dialogue.ActionAnswer, Kind: dialogue.ResponseTakedown,
		Text: "The hosting provider took the server at " + demoC2 + " offline; its disk image is preserved."}); err != nil {
		return err
	}
	if err := until(a, dialogue.RequestAnswered); err != nil {
		return err
	}
	if _, err := a.MoveRequest(ctx, reqID, workflow.Move{Action: dialogue.ActionClose, Text: "Thank you; the beacons stopped."}); err != nil {
		return err
	}
	if err := until(b, dialogue.RequestClosed); err != nil {
		return err
	}
	r, err = b.Request(ctx, reqID)
	if err != nil {
		return err
	}
	d.step("%s acknowledged and answered (action taken: takedown), %s closed it: %s on both nodes, %d state changes, none overdue",
		d.b.name, d.a.name, r.State, len(r.History))
	m.say(d)
	return nil
}

// hotlineAndCheck has A send a hotline message that B's node receipts and
// a person on B acknowledges, and B run a communication check that A's
// duty officer answers.
func (m *Main) hotlineAndCheck(ctx context.Context, d *demoState) error {
	a, b := d.a.srv.Workflow, d.b.srv.Workflow
	h, err := a.SendHotline(ctx, workflow.HotlineInput{Channel: d.channel.ID, Priority: "urgent",
		Text: "Second wave: the same actor is scanning the grid operator's VPN gateways now. Please watch " + demoC2 + "'s neighbours."})
	if err != nil {
		return err
	}
	if err := demoUntil(ctx, "party-b's node to receipt the hotline message", func() (bool, error) {
		hs, err := a.ListHotline(ctx, d.channel.ID)
		for _, x := range hs {
			if x.ID == h.ID && x.Delivered != nil {
				return true, err
			}
		}
		return false, err
	}); err != nil {
		return err
	}
	if err := demoUntil(ctx, "party-b to have the hotline message", func() (bool, error) {
		hs, err := b.ListHotline(ctx, d.channel.ID)
		for _, x := range hs {
			if x.ID == h.ID {
				return true, err
			}
		}
		return false, err
	}); err != nil {
		return err
	}
	if _, err := b.AckHotline(ctx, h.ID, demoActor); err != nil {
		return err
	}
	var acked *workflow.Hotline
	if err := demoUntil(ctx, "party-a to see the acknowledgement", func() (bool, error) {
		hs, err := a.ListHotline(ctx, d.channel.ID)
		for _, x := range hs {
			if x.ID == h.ID && x.Acknowledged != nil {
				acked = x
				return true, err
			}
		}
		return false, err
	}); err != nil {
		return err
	}
	d.step("%s sent an urgent hotline message: %s's node receipted it after %d ms, a person acknowledged it after %d ms",
		d.a.name, d.b.name, max(acked.Delivered.Sub(acked.Sent).Milliseconds(), 1), max(acked.Acknowledged.Sub(acked.Sent).Milliseconds(), 1))
	m.say(d)
	c, err := b.SendCheck(ctx, d.channel.ID)
	if err != nil {
		return err
	}
	if err := demoUntil(ctx, "party-a to have the communication check", func() (bool, error) {
		cs, _, err := a.ListChecks(ctx, d.channel.ID)
		for _, x := range cs {
			if x.ID == c.ID {
				return true, err
			}
		}
		return false, err
	}); err != nil {
		return err
	}
	if _, err := a.AnswerCheck(ctx, c.ID, demoActor); err != nil {
		return err
	}
	var answered *workflow.Check
	if err := demoUntil(ctx, "party-b to see the check answered", func() (bool, error) {
		cs, _, err := b.ListChecks(ctx, d.channel.ID)
		for _, x := range cs {
			if x.ID == c.ID && x.Answered != nil {
				answered = x
				return true, err
			}
		}
		return false, err
	}); err != nil {
		return err
	}
	d.step("%s ran a communication check: %s's duty officer answered after %d ms", d.b.name, d.a.name, max(answered.Answered.Sub(answered.Sent).Milliseconds(), 1))
	m.say(d)
	return nil
}

// assessThreat has each party state its threat level for the energy
// sector, with its reasons, and waits until each node holds the other's.
func (m *Main) assessThreat(ctx context.Context, d *demoState) error {
	levels := []struct {
		p         *demoParty
		level     int
		rationale string
		id        string
	}{
		{p: d.a, level: 4, rationale: "The grid operator's network was entered and the same actor scans its VPN gateways."},
		{p: d.b, level: 3, rationale: "The C2 server on our territory is taken down; no sign of the actor in our grid operators' networks."},
	}
	for i := range levels {
		id, err := levels[i].p.srv.Workflow.Assess(ctx, d.channel.ID, "energy", levels[i].level, levels[i].rationale)
		if err != nil {
			return err
		}
		levels[i].id = id
	}
	for i, l := range levels {
		other := levels[1-i].p
		if err := demoUntil(ctx, other.name+" to hold "+l.p.name+"'s threat level", func() (bool, error) {
			page, err := other.n.Store.FindObjects(ctx, d.channel.ID, dialogue.ObjectFilter{IDs: []string{l.id}, Limit: 1, MetaOnly: true})
			return err == nil && len(page.Objects) == 1, err
		}); err != nil {
			return err
		}
	}
	d.step("%s and %s stated their threat levels for energy (%d and %d of 5, with their reasons): each node holds both",
		d.a.name, d.b.name, levels[0].level, levels[1].level)
	m.say(d)
	return nil
}

// meetAndSign has A convene an expert round about the report and the
// request, write its minutes in two languages, and both sign them.
func (m *Main) meetAndSign(ctx context.Context, d *demoState) error {
	a, b := d.a.srv.Workflow, d.b.srv.Workflow
	mid, err := a.CreateMeeting(ctx, d.channel.ID, workflow.MeetingInput{
		Name:  "Expert round 1: the mail gateway intrusion",
		Start: time.Now().UTC().Truncate(time.Minute),
		Agenda: []workflow.AgendaItem{
			{Title: "The intrusion and its indicators", ObjectRefs: []string{d.reportID}},
			{Title: "The takedown of the C2 server", ObjectRefs: []string{d.requestID}},
		},
	})
	if err != nil {
		return err
	}
	minutes, err := a.MeetingMinutes(ctx, mid, map[string]string{
		"en": "Both parties reviewed the intrusion. Party B confirmed the takedown. Both will share further indicators within 24 hours.",
		"ru": "Стороны рассмотрели вторжение. Сторона B подтвердила отключение сервера. Обе стороны передадут новые индикаторы в течение 24 часов.",
	})
	if err != nil {
		return err
	}
	st, err := a.StatementByID(ctx, minutes)
	if err != nil {
		return err
	}
	if _, err := a.SignMinutes(ctx, mid, st.TextSHA256, demoUser+" (expert)"); err != nil {
		return err
	}
	if err := demoUntil(ctx, "party-b to receive the minutes", func() (bool, error) {
		mt, err := b.MeetingByID(ctx, mid)
		return err == nil && mt.MinutesRef == minutes, nil
	}); err != nil {
		return err
	}
	if _, err := b.SignMinutes(ctx, mid, st.TextSHA256, demoUser+" (expert)"); err != nil {
		return err
	}
	if err := demoUntil(ctx, "the minutes to be agreed", func() (bool, error) {
		s, err := a.StatementByID(ctx, minutes)
		return err == nil && s.State == "agreed", nil
	}); err != nil {
		return err
	}
	d.step("%s convened an expert round (agenda: the report, the request); both signed its minutes (English and Russian): agreed", d.a.name)
	m.say(d)
	return nil
}

// say prints the story's last line.
func (m *Main) say(d *demoState) { fmt.Fprintln(m.Stdout, d.lastStep()) }

// demoC2 is the demo's command-and-control server: on party B's territory
// in the demo's GeoIP database (198.51.100.0/24).
const demoC2 = "198.51.100.23"
