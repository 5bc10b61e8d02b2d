package loadtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Replica is a `twofold serve` process the driver started.
type Replica struct {
	URL   string
	Ready time.Duration // from exec to the first 200 of /readyz
	cmd   *exec.Cmd
	exit  chan error
}

// Pid is the replica's process id.
func (r *Replica) Pid() int { return r.cmd.Process.Pid }

// FreePorts returns n loopback ports that were free a moment ago.
func FreePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// StartReplica runs exe serve with env (TWOFOLD_* settings appended to the
// driver's environment) listening on port, logging to log, and waits until
// it is ready.
func StartReplica(ctx context.Context, exe string, env []string, port int, log io.Writer) (*Replica, error) {
	cmd := exec.Command(exe, "serve")
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, fmt.Sprintf("TWOFOLD_LISTEN=127.0.0.1:%d", port))
	cmd.Stdout, cmd.Stderr = log, log
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start replica: %w", err)
	}
	r := &Replica{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, exit: make(chan error, 1)}
	go func() { r.exit <- cmd.Wait() }()
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-r.exit:
			return nil, fmt.Errorf("replica on port %d exited before it was ready: %v (see its log)", port, err)
		case <-ctx.Done():
			r.Stop()
			return nil, ctx.Err()
		default:
		}
		if resp, err := hc.Get(r.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				r.Ready = time.Since(start)
				return r, nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	r.Stop()
	return nil, fmt.Errorf("replica on port %d not ready within 60s", port)
}

// Stop sends SIGTERM and waits for the graceful shutdown (SIGKILL after 30 s).
func (r *Replica) Stop() {
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exit:
	case <-time.After(30 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.exit
	}
}

// ReplicaEnv is the configuration of the replicas the driver starts, as
// TWOFOLD_* variables: the abuse limits are lifted (every sign-in comes
// from one IP and a few numbers), codes go to the driver's fake Twilio, and
// they stop without shutdown.delay (no load balancer waits on them).
// cheapHash sets argon2id to a test cost; otherwise the production default
// stays.
func ReplicaEnv(issuer, databaseURL, dataDir, secretKey, twilioURL, sid, token string, cheapHash bool) []string {
	env := []string{
		"TWOFOLD_DEV=false",
		"TWOFOLD_ISSUER=" + issuer,
		"TWOFOLD_DATABASE_URL=" + databaseURL,
		"TWOFOLD_DATA_DIR=" + dataDir,
		"TWOFOLD_SECRET_KEY=" + secretKey,
		"TWOFOLD_TWILIO_ACCOUNT_SID=" + sid,
		"TWOFOLD_TWILIO_AUTH_TOKEN=" + token,
		"TWOFOLD_TWILIO_FROM=+14155550199",
		"TWOFOLD_TWILIO_BASE_URL=" + twilioURL,
		"TWOFOLD_LIMITS_DESTINATION_PER_10M=1000000000",
		"TWOFOLD_LIMITS_DESTINATION_PER_DAY=1000000000",
		"TWOFOLD_LIMITS_IP_SENDS_PER_10M=1000000000",
		"TWOFOLD_LIMITS_IP_FAILURES=1000000000",
		"TWOFOLD_LIMITS_SMS_COUNTRY_DAILY=1000000000",
		"TWOFOLD_LIMITS_SMS_GLOBAL_HOURLY=1000000000",
		"TWOFOLD_SHUTDOWN_DELAY=0s",
	}
	if cheapHash {
		env = append(env, "TWOFOLD_PASSWORD_MEMORY_KIB=64", "TWOFOLD_PASSWORD_ITERATIONS=1")
	}
	return env
}

// Redact hides the secret key and token of a ReplicaEnv for printing.
func Redact(env []string) []string {
	out := make([]string, len(env))
	for i, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasSuffix(k, "SECRET_KEY") || strings.HasSuffix(k, "AUTH_TOKEN") {
			kv = k + "=…"
		}
		out[i] = kv
	}
	return out
}
