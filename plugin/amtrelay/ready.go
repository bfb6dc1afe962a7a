package amtrelay

// Ready implements the ready plugin's Readiness: the plugin is ready once
// every background worker has finished its first round: the first health
// probe round, the first read of every load source. Without them it is
// ready at once.
func (a *AMTRelay) Ready() bool { return a.workers.ready() }
