package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/parleyhq/parley/internal/dialogue"
	"github.com/parleyhq/parley/internal/peer"
)

func init() {
	moreCommands = append(moreCommands, (*Main).newPeerCommand, (*Main).newChannelCommand)
}

func (m *Main) newPeerCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "peer",
		Short: "Pin the other parties' nodes and see the state of each exchange",
	}
	cmd.AddCommand(m.newPeerAddCommand(), m.newPeerListCommand())
	return cmd
}

func (m *Main) newPeerAddCommand() *cobra.Command {
	var dir, name, rawURL, pin, logKey, territory string
	cmd := &cobra.Command{
		Use:   "add --dir DIR --name B --url https://HOST:PORT --tls-pin PIN --log-key VKEY [--territory CC]",
		Short: "Pin a peer node by its two keys",
		Long: `add pins another party's node. The two keys, which 'parley keys show' prints
on that node, are the whole trust: its TLS public key (--tls-pin) authenticates
it in mutual TLS, both ways, and its log key (--log-key) signs its checkpoints.
Get them out of band, from the other party's administrator. --name is that
node's name, the name in its log key.

A running 'parley serve' picks the peer up within seconds. Nothing flows until
a channel is shared with it: 'parley channel create TITLE --with NAME'.`,
		Example: `  parley peer add --dir /var/lib/parley --name cert-b --url https://cert-b.example:8443 \
    --tls-pin 'Xy…=' --log-key 'cert-b+1a2b3c4d+AQ…' --territory NO`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := peer.NewPeer(name, rawURL, pin, logKey, territory)
			if err != nil {
				return withHint(err, "copy the two lines of 'parley keys show' on the peer's node")
			}
			n, err := m.openNode(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			if p.LogKey == n.LogKey() || p.Name == n.Config.Name {
				return withHint(fmt.Errorf("--name %s: that is this node", p.Name), "give the keys of the other party's node")
			}
			p.CreatedAt = time.Now()
			if err := n.Store.AddPeer(cmd.Context(), p); err != nil {
				if dialogue.KindOf(err) == dialogue.KindConflict {
					return withHint(err, "list the peers with: parley peer list --dir %s", n.Dir)
				}
				return err
			}
			fmt.Fprintf(m.Stdout, "Pinned peer %s at %s.\n", p.Name, p.URL)
			fmt.Fprintf(m.Stdout, "Give its administrator this node's keys (parley keys show --dir %s), then share a channel:\n", n.Dir)
			fmt.Fprintf(m.Stdout, "  parley channel create --dir %s TITLE --with %s\n", n.Dir, p.Name)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "the peer node's name (the name in its log key)")
	f.StringVar(&rawURL, "url", "", "where the peer listens: https://HOST:PORT")
	f.StringVar(&pin, "tls-pin", "", "the tls-pin line of the peer's 'parley keys show'")
	f.StringVar(&logKey, "log-key", "", "the log-key line of the peer's 'parley keys show'")
	f.StringVar(&territory, "territory", "", "the ISO 3166-1 alpha-2 code of the territory the party answers for")
	return cmd
}

func (m *Main) newPeerListCommand() *cobra.Command {
	var dir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list --dir DIR [--json]",
		Short: "List the peers: last contact, entries behind, last cosigned size, alarms",
		Long: `list shows each peer with the state of the exchange:

  LAST CONTACT  the last request to or from it that succeeded
  BEHIND        this node's entries it has not cosigned yet, plus its cosigned
                entries not applied here yet (0 when all is exchanged)
  COSIGNED      the largest size of this node's logs it cosigned
  ALARM         FORK (it signed a checkpoint inconsistent with one cosigned
                here) or BAD-DATA (it served data its checkpoint does not
                commit to), with when and why; '-' when none

--json prints one document with every channel's sizes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := m.openNode(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			states, err := peer.States(cmd.Context(), n.Store)
			if err != nil {
				return err
			}
			if asJSON {
				if states == nil {
					states = []*peer.PeerState{}
				}
				enc := json.NewEncoder(m.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"peers": states})
			}
			if len(states) == 0 {
				fmt.Fprintf(m.Stdout, "No peers. Pin one with: parley peer add --dir %s --name B --url https://HOST:PORT --tls-pin PIN --log-key VKEY\n", n.Dir)
				return nil
			}
			tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tURL\tTERRITORY\tCHANNELS\tLAST CONTACT\tBEHIND\tCOSIGNED\tALARM")
			for _, s := range states {
				active := 0
				for _, c := range s.Channels {
					if c.State == dialogue.ChannelActive {
						active++
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%d\t%d\t%s\n", s.Name, s.URL, dash(s.Territory), active, len(s.Channels),
					when(s.LastContact), s.Behind, s.Cosigned, alarmText(&s.Peer))
			}
			return tw.Flush()
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

func alarmText(p *dialogue.Peer) string {
	if p.Alarm == "" {
		return "-"
	}
	return fmt.Sprintf("%s since %s (alarm %d): %s", p.Alarm, when(p.AlarmAt), p.AlarmID, p.AlarmDetail)
}

func (m *Main) newChannelCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "channel",
		Short: "Share collections with peers: propose, accept, decline, list",
	}
	cmd.AddCommand(m.newChannelCreateCommand(), m.newChannelAcceptCommand(), m.newChannelDeclineCommand(), m.newChannelListCommand())
	return cmd
}

func (m *Main) newChannelCreateCommand() *cobra.Command {
	var dir, with, description string
	cmd := &cobra.Command{
		Use:   "create --dir DIR TITLE --with PEER [--description TEXT]",
		Short: "Propose a channel to a peer: a collection shared with it",
		Long: `create makes a collection (every user of this node may read it and, by role,
write it) and proposes it to the peer as a channel, with the same id on both
nodes. 'parley serve' delivers the proposal; the channel carries nothing until
the peer's administrator runs 'parley channel accept ID' there. Objects added
meanwhile wait and flow once it is accepted.`,
		Example: `  parley channel create --dir /var/lib/parley "A-B incidents" --with cert-b`,
		Args:    exactArgs(1, "one TITLE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			title := strings.TrimSpace(args[0])
			if title == "" {
				return fmt.Errorf("the title is empty")
			}
			if with == "" {
				return withHint(fmt.Errorf("--with is required: the peer to share the channel with"), "list the peers with: parley peer list")
			}
			n, err := m.openNode(ctx, dir)
			if err != nil {
				return err
			}
			defer n.Close()
			if _, err := n.Store.Peer(ctx, with); err != nil {
				if dialogue.KindOf(err) == dialogue.KindNotFound {
					return withHint(fmt.Errorf("--with %s: no such peer", with), "pin it first with: parley peer add --dir %s --name %s ...", n.Dir, with)
				}
				return err
			}
			ch := &dialogue.Channel{Title: title, Description: description, Peer: with, State: dialogue.ChannelProposed, CreatedAt: time.Now()}
			if err := n.Store.ProposeChannel(ctx, ch); err != nil {
				if dialogue.KindOf(err) == dialogue.KindConflict {
					return withHint(err, "titles are unique on a node; list them with: parley collection list --dir %s", n.Dir)
				}
				return err
			}
			fmt.Fprintf(m.Stdout, "Proposed channel %q with id %s to %s.\n", ch.Title, ch.ID, with)
			fmt.Fprintf(m.Stdout, "'parley serve' delivers the proposal; on %s, its administrator accepts it with:\n", with)
			fmt.Fprintf(m.Stdout, "  parley channel accept --dir DIR %s\n", ch.ID)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&with, "with", "", "the peer to share it with (its name in 'parley peer list')")
	cmd.Flags().StringVar(&description, "description", "", "what the channel is for")
	return cmd
}

func (m *Main) newChannelAcceptCommand() *cobra.Command {
	var dir, title string
	cmd := &cobra.Command{
		Use:   "accept --dir DIR ID [--title TITLE]",
		Short: "Accept a channel a peer proposed",
		Long: `accept makes the collection of a channel a peer proposed, with the channel's
id, and starts the exchange: 'parley serve' tells the peer and the entries
flow both ways. --title names the collection here when the proposed title is
taken on this node.`,
		Example: `  parley channel accept --dir /var/lib/parley 6f1c1f4e-3c3a-4a39-9b86-2c1f0f3c8e21`,
		Args:    exactArgs(1, "one channel ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			n, err := m.openNode(ctx, dir)
			if err != nil {
				return err
			}
			defer n.Close()
			ch, err := n.Store.AcceptChannel(ctx, args[0], strings.TrimSpace(title), time.Now())
			switch dialogue.KindOf(err) {
			case dialogue.KindNotFound:
				return withHint(err, "list the channels proposed to this node with: parley channel list --dir %s", n.Dir)
			case dialogue.KindConflict:
				return withHint(err, "a channel proposed by a peer is accepted once; a title taken here needs --title")
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "Accepted channel %q (%s) with %s; 'parley serve' starts the exchange.\n", ch.Title, ch.ID, ch.Peer)
			return nil
		},
	}
	m.dirFlag(cmd, &dir)
	cmd.Flags().StringVar(&title, "title", "", "the collection's title here (default: the proposed one)")
	return cmd
}

func (m *Main) newChannelListCommand() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "list --dir DIR",
		Short: "List the channels and their state",
		Long: `list shows each channel: its id (the same on both nodes), title, peer, and
state: proposed (by this node; the peer has not accepted yet), offered (by
the peer; accept it with 'parley channel accept' or decline it with 'parley
channel decline'), active, or declined (here, or by the peer). SENT and
RECEIVED are the sizes of the two logs: this node's entries and the peer's
entries applied here.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := m.openNode(cmd.Context(), dir)
			if err != nil {
				return err
			}
			defer n.Close()
			states, err := peer.States(cmd.Context(), n.Store)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTITLE\tPEER\tSTATE\tSENT\tCOSIGNED\tRECEIVED")
			count := 0
			for _, s := range states {
				for _, c := range s.Channels {
					count++
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\n", c.ID, c.Title, s.Name, c.State, c.Sent, c.Cosigned, c.Applied)
				}
			}
			if count == 0 {
				fmt.Fprintf(m.Stdout, "No channels. Propose one with: parley channel create --dir %s TITLE --with PEER\n", n.Dir)
				return nil
			}
			return tw.Flush()
		},
	}
	m.dirFlag(cmd, &dir)
	return cmd
}
