package amtrelay

import (
	"sync"
	"weak"
)

// Loaded GeoIP databases are shared. A Corefile reload that names the
// file the running configuration loaded, unchanged (the same size and
// modification time, as the watcher tells versions apart), takes that
// database rather than reading, verifying and opening it again; so do
// server blocks that name the same file: the work and a second copy in
// memory are saved (a reload at 10,000 relays took as long with it as
// without, by the harness: other work dominates). The share holds
// databases weakly: one that no configuration uses any more is freed as
// before.
var sharedGeo struct {
	mu     sync.Mutex
	byPath map[string]weak.Pointer[geoReader]
}

// sharedReader returns the database last loaded from path, if it is still
// in use and the file is still in state st; else nil.
func sharedReader(path string, st fileState) *geoReader {
	sharedGeo.mu.Lock()
	defer sharedGeo.mu.Unlock()
	r := sharedGeo.byPath[path].Value()
	if r == nil || st.missing || r.file != st {
		return nil
	}
	return r
}

// shareReader offers r, just loaded from path, to later loads.
func shareReader(path string, r *geoReader) {
	sharedGeo.mu.Lock()
	defer sharedGeo.mu.Unlock()
	if sharedGeo.byPath == nil {
		sharedGeo.byPath = map[string]weak.Pointer[geoReader]{}
	}
	sharedGeo.byPath[path] = weak.Make(r)
}
