package amtrelay

// Ready implements the ready plugin's Readiness: the plugin is ready once
// the first health probe round and the first read of every load source
// have finished or timed out. Without health probes or load sources it is
// ready at once.
func (a *AMTRelay) Ready() bool {
	return (a.health == nil || a.health.ready()) && (a.load == nil || a.load.ready())
}
