"""res_pkg.sub: a subpackage, so resources can live under a dotted package name."""
