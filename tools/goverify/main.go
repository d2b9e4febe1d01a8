// Command goverify checks nhitrace's signed checkpoints, inclusion proofs and consistency
// proofs with a verifier nhitrace did not write: Go's golang.org/x/mod/sumdb/note (C2SP signed
// notes, Ed25519) and golang.org/x/mod/sumdb/tlog (RFC 6962 / 9162 Merkle proofs).
//
//	goverify pack [-key VERIFIER_KEY] FILE
//	goverify inclusion -key VERIFIER_KEY [-leaf LEAF_FILE] PROOF_JSON
//	goverify consistency -key VERIFIER_KEY PROOF_JSON
//
// pack checks an evidence pack (docs/format/evidence-pack.md): both checkpoints' signatures,
// the consistency proof between them, and for every event its leaf hash, its inclusion proof,
// its sequence number and its raw record against the salted hash in its leaf (or, when erased,
// the erasure event that accounts for it). It does not recompute the summary or the policy
// lines, which needs nhitrace's correlation code. inclusion and consistency check the JSON that
// `nhitrace prove inclusion --json` and `nhitrace prove consistency --json` print.
//
// Exit status: 0 verified, 1 a check failed (each problem is printed, named by line, part and
// item), 2 bad usage or an unreadable file.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  goverify pack [-key VERIFIER_KEY] FILE
  goverify inclusion -key VERIFIER_KEY [-leaf LEAF_FILE] PROOF_JSON
  goverify consistency -key VERIFIER_KEY PROOF_JSON
`)
	os.Exit(2)
}

func fatal(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "goverify: "+format+"\n", args...)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	key := fs.String("key", "", "the verifier key to check signatures with")
	leaf := fs.String("leaf", "", "inclusion: a file holding the leaf bytes")
	fs.Parse(os.Args[2:])
	if fs.NArg() != 1 {
		usage()
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		fatal("%v", err)
	}
	var problems []string
	var summary string
	switch os.Args[1] {
	case "pack":
		summary, problems = checkPack(data, *key)
	case "inclusion":
		if *key == "" {
			usage()
		}
		var leafBytes []byte
		if *leaf != "" {
			if leafBytes, err = os.ReadFile(*leaf); err != nil {
				fatal("%v", err)
			}
		}
		summary, problems = checkInclusion(data, *key, leafBytes, *leaf != "")
	case "consistency":
		if *key == "" {
			usage()
		}
		summary, problems = checkConsistency(data, *key)
	default:
		usage()
	}
	if len(problems) > 0 {
		fmt.Printf("FAILED: %d problem(s)\n", len(problems))
		for _, p := range problems {
			fmt.Printf("  %s\n", p)
		}
		os.Exit(1)
	}
	fmt.Printf("OK: %s\n", summary)
}

// checkpoint is a verified C2SP tlog-checkpoint.
type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

// openCheckpoint verifies the signed note with v and parses its body:
// "<origin>\n<size>\n<base64 root>\n[extension lines]". The origin must be the key's name.
func openCheckpoint(signed string, v note.Verifier) (checkpoint, error) {
	// note.Open decodes signatures with base64.StdEncoding, which accepts non-zero padding
	// bits; nhitrace accepts only the one encoding of the bytes, and so does this verifier.
	if i := strings.LastIndex(signed, "\n\n"); i >= 0 {
		for _, line := range strings.Split(strings.TrimSuffix(signed[i+2:], "\n"), "\n") {
			f := strings.Fields(line)
			if len(f) == 3 && !canonicalBase64(f[2]) {
				return checkpoint{}, fmt.Errorf("signature: %q is not canonical base64", f[2])
			}
		}
	}
	n, err := note.Open([]byte(signed), note.VerifierList(v))
	if err != nil {
		return checkpoint{}, fmt.Errorf("signature: %v", err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 {
		return checkpoint{}, errors.New("not a checkpoint: fewer than three lines")
	}
	if lines[0] != v.Name() {
		return checkpoint{}, fmt.Errorf("origin %q is not the key's name %q", lines[0], v.Name())
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return checkpoint{}, fmt.Errorf("bad tree size %q", lines[1])
	}
	root, err := parseHash(lines[2])
	if err != nil {
		return checkpoint{}, fmt.Errorf("bad root hash %q", lines[2])
	}
	return checkpoint{lines[0], size, root}, nil
}

// canonicalBase64 reports whether s is the one standard, padded base64 encoding of its bytes.
func canonicalBase64(s string) bool {
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	return err == nil && base64.StdEncoding.EncodeToString(b) == s
}

// newVerifier is note.NewVerifier, also requiring the key's base64 to be canonical.
func newVerifier(vkey string) (note.Verifier, error) {
	parts := strings.SplitN(vkey, "+", 3) // name, key id, base64 (which may hold "+")
	if len(parts) != 3 || !canonicalBase64(parts[2]) {
		return nil, fmt.Errorf("malformed verifier key %q", vkey)
	}
	return note.NewVerifier(vkey)
}

// parseHash decodes a base64 hash strictly: the one encoding of its 32 bytes (tlog.ParseHash
// would also accept non-zero padding bits, which nhitrace's own reader refuses).
func parseHash(s string) (tlog.Hash, error) {
	var h tlog.Hash
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != len(h) || strings.ContainsAny(s, "\r\n") {
		return h, fmt.Errorf("not the base64 of a %d-byte hash: %q", len(h), s)
	}
	copy(h[:], b)
	return h, nil
}

func parseHashes(list []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, 0, len(list))
	for i, s := range list {
		h, err := parseHash(s)
		if err != nil {
			return nil, fmt.Errorf("hash %d: %v", i, err)
		}
		out = append(out, h)
	}
	return out, nil
}

// checkTree verifies that the tree old is a prefix of the tree cur. tlog.CheckTree needs
// non-empty trees; the empty tree is a prefix of every tree with an empty proof.
func checkTree(proof []tlog.Hash, old, cur checkpoint) error {
	if old.size == 0 {
		if len(proof) != 0 {
			return errors.New("a proof from the empty tree must be empty")
		}
		return nil
	}
	if old.size > cur.size {
		return fmt.Errorf("size %d is larger than size %d", old.size, cur.size)
	}
	return tlog.CheckTree(tlog.TreeProof(proof), cur.size, cur.root, old.size, old.root)
}

// leafEnvelope is what the pack verifier reads of a leaf (docs/format/ledger.md section 1).
type leafEnvelope struct {
	Seq *int64 `json:"seq"`
	Raw *struct {
		SaltedSHA256 string `json:"salted_sha256"`
		Size         int64  `json:"size"`
	} `json:"raw"`
	Event struct {
		Kind   string `json:"kind"`
		Source struct {
			System string `json:"system"`
		} `json:"source"`
		Attributes map[string]json.RawMessage `json:"attributes"`
	} `json:"event"`
}

// erasedSeq is the event an erasure event (kind erasure, from nhitrace) erased, or -1.
func (l *leafEnvelope) erasedSeq() int64 {
	if l.Event.Kind != "erasure" || l.Event.Source.System != "nhitrace" {
		return -1
	}
	var s int64 = -1
	if raw, ok := l.Event.Attributes["erased_seq"]; ok {
		if err := json.Unmarshal(raw, &s); err != nil {
			return -1
		}
	}
	return s
}

type eventLine struct {
	Part     string   `json:"part"`
	Seq      *int64   `json:"seq"`
	Leaf     *string  `json:"leaf"`
	Proof    []string `json:"proof"`
	Raw      *string  `json:"raw"`
	Salt     *string  `json:"salt"`
	ErasedBy *int64   `json:"erased_by"`
}

// strictUnmarshal decodes one JSON object that fills the whole of line and whose members are
// exactly named (encoding/json alone would match names case-insensitively, take the last of
// duplicate members, and ignore what follows the object), as nhitrace's reader requires.
func strictUnmarshal(line []byte, v interface{}) error {
	if err := checkMembers(line, v); err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(line))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.InputOffset() != int64(len(line)) {
		return errors.New("data after the JSON object")
	}
	return nil
}

// checkMembers requires every top-level member name of the object in line to be one of v's
// json tags, exactly, and once.
func checkMembers(line []byte, v interface{}) error {
	allowed := map[string]bool{}
	t := reflect.TypeOf(v).Elem()
	for i := 0; i < t.NumField(); i++ {
		allowed[strings.Split(t.Field(i).Tag.Get("json"), ",")[0]] = true
	}
	d := json.NewDecoder(bytes.NewReader(line))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	seen := map[string]bool{}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		if !allowed[name] {
			return fmt.Errorf("unknown member %q", name)
		}
		if seen[name] {
			return fmt.Errorf("duplicate member %q", name)
		}
		seen[name] = true
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
}

func checkPack(data []byte, trusted string) (string, []string) {
	var problems []string
	add := func(line int, part, item, format string, args ...interface{}) {
		p := part
		if item != "" {
			p += " " + item
		}
		prefix := ""
		if line > 0 {
			prefix = fmt.Sprintf("line %d: ", line)
		}
		problems = append(problems, prefix+p+": "+fmt.Sprintf(format, args...))
	}
	if len(data) == 0 || data[len(data)-1] != '\n' {
		add(0, "pack", "", "empty or does not end with a newline")
		return "", problems
	}
	lines := bytes.Split(data[:len(data)-1], []byte("\n"))
	if len(lines) < 6 {
		add(0, "pack", "", "has %d lines; a pack has at least 6", len(lines))
		return "", problems
	}

	// Line 1: header.
	var header struct {
		Events  *int64 `json:"events"`
		Format  string `json:"format"`
		Version *int   `json:"version"`
	}
	if err := strictUnmarshal(lines[0], &header); err != nil || header.Events == nil ||
		header.Version == nil {
		add(1, "header", "", "not a pack header: %v", err)
		return "", problems
	}
	// Version 2 (case packs) has the same lines as version 1; only the summary differs, which
	// this verifier does not recompute.
	if header.Format != "nhitrace-evidence-pack" || (*header.Version != 1 && *header.Version != 2) {
		add(1, "header", "", "format %q version %d is not nhitrace-evidence-pack version 1 or 2",
			header.Format, *header.Version)
		return "", problems
	}

	// Line 2: the key.
	var keyLine struct {
		Part        string `json:"part"`
		VerifierKey string `json:"verifier_key"`
	}
	if err := strictUnmarshal(lines[1], &keyLine); err != nil || keyLine.Part != "key" {
		add(2, "key", "", "not a key line: %v", err)
		return "", problems
	}
	vkey := keyLine.VerifierKey
	if trusted != "" {
		if trusted != vkey {
			add(2, "key", "", "the pack's key %s is not the trusted key %s", vkey, trusted)
		}
		vkey = trusted
	}
	verifier, err := newVerifier(vkey)
	if err != nil {
		add(2, "key", "", "not a verifier key: %v", err)
		return "", problems
	}

	// Lines 3 and 4: the checkpoint, the latest one, and the proof between them.
	var cpLine struct {
		Note string `json:"note"`
		Part string `json:"part"`
	}
	if err := strictUnmarshal(lines[2], &cpLine); err != nil || cpLine.Part != "checkpoint" {
		add(3, "checkpoint", "", "not a checkpoint line: %v", err)
		return "", problems
	}
	cp, err := openCheckpoint(cpLine.Note, verifier)
	if err != nil {
		add(3, "checkpoint", "", "%v", err)
		return "", problems
	}
	var consLine struct {
		Hashes []string `json:"hashes"`
		Latest string   `json:"latest"`
		Part   string   `json:"part"`
	}
	if err := strictUnmarshal(lines[3], &consLine); err != nil || consLine.Part != "consistency" {
		add(4, "consistency", "", "not a consistency line: %v", err)
	} else if latest, err := openCheckpoint(consLine.Latest, verifier); err != nil {
		add(4, "consistency", "", "latest checkpoint: %v", err)
	} else if proof, err := parseHashes(consLine.Hashes); err != nil {
		add(4, "consistency", "", "%v", err)
	} else if err := checkTree(proof, cp, latest); err != nil {
		add(4, "consistency", "", "tree %d is not proved a prefix of tree %d: %v", cp.size,
			latest.size, err)
	}

	// The events.
	n := int(*header.Events)
	if n < 1 || 4+n >= len(lines) {
		add(1, "header", "", "says %d events, but the pack has %d lines", n, len(lines))
		return "", problems
	}
	type erasedRef struct {
		line    int
		seq, by int64
	}
	var erased []erasedRef
	erasures := map[int64]int64{} // erasure event seq -> the seq it erased
	var checked, erasedCount int
	var last int64 = -1
	for i := 4; i < 4+n; i++ {
		ln := i + 1
		var ev eventLine
		if err := strictUnmarshal(lines[i], &ev); err != nil || ev.Part != "event" || ev.Seq == nil ||
			ev.Leaf == nil {
			add(ln, "event", "", "not an event line: %v", err)
			continue
		}
		seq := *ev.Seq
		item := fmt.Sprintf("seq %d", seq)
		if seq <= last {
			add(ln, "event", item, "comes after seq %d (events are in ascending order)", last)
		}
		last = seq
		leaf := []byte(*ev.Leaf)
		proof, err := parseHashes(ev.Proof)
		if err != nil {
			add(ln, "event", item, "proof: %v", err)
		} else if seq < 0 || seq >= cp.size {
			add(ln, "event", item, "is not in the tree of size %d", cp.size)
		} else if err := tlog.CheckRecord(tlog.RecordProof(proof), cp.size, cp.root, seq,
			tlog.RecordHash(leaf)); err != nil {
			add(ln, "event", item, "inclusion proof: %v", err)
		}
		var env leafEnvelope
		if err := json.Unmarshal(leaf, &env); err != nil || env.Seq == nil {
			add(ln, "event", item, "leaf is not a ledger leaf: %v", err)
			continue
		}
		if *env.Seq != seq {
			add(ln, "event", item, "the signed leaf says it is seq %d", *env.Seq)
		}
		if s := env.erasedSeq(); s >= 0 {
			erasures[seq] = s
		}
		switch {
		case env.Raw == nil:
			if ev.Raw != nil || ev.Salt != nil || ev.ErasedBy != nil {
				add(ln, "event", item, "has a raw record its leaf does not commit to")
			}
		case ev.Raw != nil && ev.Salt != nil:
			raw, err1 := base64.StdEncoding.Strict().DecodeString(*ev.Raw)
			salt, err2 := base64.StdEncoding.Strict().DecodeString(*ev.Salt)
			if err1 != nil || err2 != nil || strings.ContainsAny(*ev.Raw+*ev.Salt, "\r\n") {
				add(ln, "event", item, "raw or salt is not base64")
				break
			}
			sum := sha256.Sum256(append(append([]byte{}, salt...), raw...))
			checked++
			if hex.EncodeToString(sum[:]) != env.Raw.SaltedSHA256 || int64(len(raw)) != env.Raw.Size {
				add(ln, "event", item, "the raw record does not match the salted hash in its leaf")
			}
		case ev.ErasedBy != nil && ev.Raw == nil && ev.Salt == nil:
			erasedCount++
			erased = append(erased, erasedRef{ln, seq, *ev.ErasedBy})
		default:
			add(ln, "event", item, "the raw record its leaf commits to is missing")
		}
	}
	for _, e := range erased {
		if target, ok := erasures[e.by]; !ok || target != e.seq || e.by <= e.seq {
			add(e.line, "event", fmt.Sprintf("seq %d", e.seq),
				"says it was erased by seq %d, which is not an erasure event of the pack that erased it",
				e.by)
		}
	}
	// The rest: policy lines, then the summary (their content is nhitrace's to check).
	for i := 4 + n; i < len(lines); i++ {
		var part struct {
			Part string `json:"part"`
		}
		want := "policy"
		if i == len(lines)-1 {
			want = "summary"
		}
		if err := json.Unmarshal(lines[i], &part); err != nil || part.Part != want {
			add(i+1, want, "", "expected a %s line", want)
		}
	}
	return fmt.Sprintf("%d events (%d raw records re-hashed, %d erased) in the tree of size %d "+
		"(root %s), a prefix of the latest checkpoint; key %s (%s). Not checked here: the "+
		"summary and policy lines (they need nhitrace's correlation code)",
		n, checked, erasedCount, cp.size, cp.root, verifier.Name(), keySource(trusted)), problems
}

func keySource(trusted string) string {
	if trusted != "" {
		return "trusted, given with -key"
	}
	return "the pack's own; pass -key to pin the key you hold"
}

func checkInclusion(data []byte, vkey string, leaf []byte, haveLeaf bool) (string, []string) {
	var p struct {
		LeafIndex  *int64   `json:"leaf_index"`
		TreeSize   *int64   `json:"tree_size"`
		LeafHash   string   `json:"leaf_hash"`
		Hashes     []string `json:"hashes"`
		Checkpoint string   `json:"checkpoint"`
	}
	if err := strictUnmarshal(bytes.TrimSpace(data), &p); err != nil || p.LeafIndex == nil ||
		p.TreeSize == nil {
		return "", []string{fmt.Sprintf("not the output of nhitrace prove inclusion --json: %v", err)}
	}
	v, err := newVerifier(vkey)
	if err != nil {
		return "", []string{fmt.Sprintf("key: %v", err)}
	}
	cp, err := openCheckpoint(p.Checkpoint, v)
	if err != nil {
		return "", []string{fmt.Sprintf("checkpoint: %v", err)}
	}
	if cp.size != *p.TreeSize {
		return "", []string{fmt.Sprintf("checkpoint: size %d, but the proof is for size %d", cp.size, *p.TreeSize)}
	}
	h, err := parseHash(p.LeafHash)
	if err != nil {
		return "", []string{fmt.Sprintf("leaf_hash: %v", err)}
	}
	if haveLeaf && tlog.RecordHash(leaf) != h {
		return "", []string{"leaf_hash is not the hash of the leaf file's bytes"}
	}
	proof, err := parseHashes(p.Hashes)
	if err != nil {
		return "", []string{fmt.Sprintf("hashes: %v", err)}
	}
	if err := tlog.CheckRecord(tlog.RecordProof(proof), cp.size, cp.root, *p.LeafIndex, h); err != nil {
		return "", []string{fmt.Sprintf("inclusion proof of leaf %d in tree %d: %v", *p.LeafIndex, cp.size, err)}
	}
	what := "leaf hash"
	if haveLeaf {
		what = "leaf bytes"
	}
	return fmt.Sprintf("leaf %d (%s) is in the tree of size %d, root %s, signed by %s",
		*p.LeafIndex, what, cp.size, cp.root, v.Name()), nil
}

func checkConsistency(data []byte, vkey string) (string, []string) {
	var p struct {
		Size1       *int64   `json:"size1"`
		Size2       *int64   `json:"size2"`
		Hashes      []string `json:"hashes"`
		Checkpoint1 string   `json:"checkpoint1"`
		Checkpoint2 string   `json:"checkpoint2"`
	}
	if err := strictUnmarshal(bytes.TrimSpace(data), &p); err != nil || p.Size1 == nil || p.Size2 == nil {
		return "", []string{fmt.Sprintf("not the output of nhitrace prove consistency --json: %v", err)}
	}
	v, err := newVerifier(vkey)
	if err != nil {
		return "", []string{fmt.Sprintf("key: %v", err)}
	}
	cp1, err := openCheckpoint(p.Checkpoint1, v)
	if err != nil {
		return "", []string{fmt.Sprintf("checkpoint1: %v", err)}
	}
	cp2, err := openCheckpoint(p.Checkpoint2, v)
	if err != nil {
		return "", []string{fmt.Sprintf("checkpoint2: %v", err)}
	}
	if cp1.size != *p.Size1 || cp2.size != *p.Size2 {
		return "", []string{"the checkpoints' sizes are not size1 and size2"}
	}
	proof, err := parseHashes(p.Hashes)
	if err != nil {
		return "", []string{fmt.Sprintf("hashes: %v", err)}
	}
	if err := checkTree(proof, cp1, cp2); err != nil {
		return "", []string{fmt.Sprintf("tree %d is not proved a prefix of tree %d: %v", cp1.size, cp2.size, err)}
	}
	return fmt.Sprintf("the tree of size %d (root %s) is a prefix of the tree of size %d (root %s), both signed by %s",
		cp1.size, cp1.root, cp2.size, cp2.root, v.Name()), nil
}
