#!/usr/bin/env bash
# test/package.sh: make install, make uninstall and the Debian package,
# once per `make check` (not per build). Works on a copy of the tree in a
# scratch directory, never in the tree itself (dpkg-buildpackage leaves
# debian/vigil/, debian/.debhelper/ ... behind):
#
#   - make install DESTDIR=... PREFIX=/usr/local puts every file where
#     docs/operations.md says (binaries, the unit run on them, the example
#     config with its database in /var/lib/vigil, MIBs, docs, man pages,
#     web/, the sysusers.d file of a fixed User=), and refuses binaries
#     built for another MIB directory;
#   - installed under a scratch PREFIX, with the source tree renamed,
#     vigild -t loads the installed example with the installed MIBs; a
#     reinstall keeps a changed config; uninstall removes the rest;
#   - man --warnings is silent on every page;
#   - dpkg-buildpackage -b builds it, lintian finds no error, and the .deb
#     holds the expected paths, conffiles and maintainer scripts.
#
# Prints "ok N - package: ..." / "not ok N - package: ...", then
# "N passed, N failed" last, as test/run.sh does. On a failure the scratch
# directory is kept and named.
set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
W=$(mktemp -d "${TMPDIR:-/tmp}/vgl-package-XXXXXX")
passed=0 failed=0 n=0
t0=$(date +%s)
export LC_ALL=C.UTF-8

result() { # STATUS DESCRIPTION
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - package: $2"
		passed=$((passed + 1))
	else
		echo "not ok $n - package: $2"
		failed=$((failed + 1))
	fi
}
skip() { n=$((n + 1)); echo "ok $n - package: $1 # skip"; passed=$((passed + 1)); }
# check DESCRIPTION CMD...: a result from CMD's status.
check() { local d=$1; shift; "$@"; result $? "$d"; }
# A log's tail as comments, after a failing step.
show() { sed 's/^/#   /' "$1" | tail -n "${2:-40}"; }
finish() {
	echo "# package stage: $(( $(date +%s) - t0 )) s"
	if [ "$failed" -eq 0 ]; then rm -rf "$W"; else echo "# kept: $W"; fi
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
	exit
}
# A step the rest depends on failed: stop, counted.
fatal() { result 1 "$1"; [ -n "${2:-}" ] && show "$2"; finish; }

# ---- a copy of the tree: tracked files and new ones not ignored ----
src=$W/src
mkdir -p "$src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z -co --exclude-standard |
		tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$src"
else
	(cd "$top" && tar --exclude=./.git --exclude=./build --exclude=./build-san \
		--exclude=./build-fuzz -cf - .) | tar -xf - -C "$src"
fi
[ -f "$src/Makefile" ] && [ -f "$src/debian/control" ] || fatal "copy of the tree in $src"
unit_src=$src/systemd/vigild.service
# The unit names a fixed user (sysusers.d) unless it uses DynamicUser=.
unit_user=$(sed -n 's/^User=//p' "$unit_src" | tail -n 1)
grep -qE '^DynamicUser=(yes|true|on|1)$' "$unit_src" && unit_user=""

# ---- make install DESTDIR=... PREFIX=/usr/local ----
B=$W/b D=$W/dest L=/usr/local
echo "# building into $B for $L"
timeout -k 10 900 make -C "$src" -s -j"$jobs" BUILD="$B" MIBDIR=$L/share/vigil/mibs \
	"$B/vigild" "$B/vigil" > "$W/make.log" 2>&1 ||
	fatal "build with MIBDIR=$L/share/vigil/mibs" "$W/make.log"
result 0 "build with MIBDIR=$L/share/vigil/mibs"

timeout -k 10 120 make -C "$src" -s install BUILD="$B" PREFIX=/opt/vigil DESTDIR="$W/refused" \
	> "$W/refused.log" 2>&1
rc=$?
[ "$rc" -ne 0 ] && grep -q 'looks for its MIBs in' "$W/refused.log" && [ ! -e "$W/refused" ]
result $? "install refuses binaries built for another MIB directory, writing nothing"

timeout -k 10 120 make -C "$src" -s install BUILD="$B" PREFIX=$L DESTDIR="$D" \
	> "$W/install.log" 2>&1 || fatal "make install DESTDIR=... PREFIX=$L" "$W/install.log"
result 0 "make install DESTDIR=... PREFIX=$L"

bin_ok() {
	[ -x "$D$L/bin/vigild" ] && [ -x "$D$L/bin/vigil" ] && [ ! -e "$D$L/sbin/vigild" ] &&
	timeout 10 "$D$L/bin/vigild" -V | grep -q '^vigild '
}
check "vigild and vigil in $L/bin, vigild -V runs" bin_ok
# one version: what vigild says is what the package says
version_ok() {
	local pkg bin
	pkg=$(sed -n '1s/^vigil (\([^)]*\)).*/\1/p' "$src/debian/changelog")
	bin=$(timeout 10 "$D$L/bin/vigild" -V | sed 's/^vigild //')
	[ -n "$pkg" ] && [ "$pkg" = "$bin" ]
}
check "vigild -V agrees with debian/changelog" version_ok

units=$(find "$D" -name vigild.service)
unit_ok() {
	[ "$(echo "$units" | wc -l)" -eq 1 ] && [ -n "$units" ] &&
	grep -qx "ExecStart=$L/bin/vigild -c $L/etc/vigil/vigil.json" "$units" &&
	grep -qx "ExecStartPre=$L/bin/vigild -t -c $L/etc/vigil/vigil.json" "$units" &&
	! grep -E '^Exec' "$units" | grep -v "^Exec[A-Za-z]*=[-@:+!]*$L/bin/vigild " | grep -q vigild &&
	# every other line as in the source, but for the config's path
	diff <(grep -vE '^(Exec|Documentation=)' "$unit_src" |
		sed "s|/etc/vigil/vigil\.json|$L/etc/vigil/vigil.json|g") \
		<(grep -vE '^(Exec|Documentation=)' "$units") >/dev/null
}
check "unit installed once ($units), ExecStart/ExecStartPre run $L/bin/vigild on $L/etc/vigil" unit_ok

etc=$D$L/etc/vigil
conf_ok() {
	grep -qF '"path": "/var/lib/vigil/vigil.db"' "$etc/vigil.json" || return 1
	diff <(sed 's|"path": "/var/lib/vigil/vigil.db"|"path": "vigil.db"|' "$etc/vigil.json") \
		"$src/conf/vigil.json" >/dev/null || return 1
	for f in "$src"/conf/hosts.d/*.json "$src"/conf/profiles/*.json; do
		cmp -s "$f" "$etc/${f#"$src"/conf/}" || return 1
	done
}
check "example config in $L/etc/vigil (storage.path /var/lib/vigil/vigil.db), hosts.d, profiles" conf_ok

same_files() { # SRC_DIR DEST_DIR: every file of SRC_DIR, same bytes, under DEST_DIR
	local f
	[ -d "$2" ] || return 1
	while IFS= read -r f; do
		cmp -s "$1/$f" "$2/$f" || return 1
	done < <(cd "$1" && find . -type f)
}
check "MIB modules in $L/share/vigil/mibs" same_files "$src/mibs" "$D$L/share/vigil/mibs"
check "docs in $L/share/doc/vigil" \
	test -f "$D$L/share/doc/vigil/README.md" -a -f "$D$L/share/doc/vigil/config.md" \
	-a -f "$D$L/share/doc/vigil/cli.md"
if [ -d "$src/web" ]; then
	check "web/ in $L/share/vigil/web" same_files "$src/web" "$D$L/share/vigil/web"
else
	skip "web/ (the tree has none)"
fi
sysusers=$(find "$D" -path '*/sysusers.d/vigil.conf')
if [ -n "$unit_user" ]; then
	check "sysusers.d/vigil.conf creates the unit's User=$unit_user" \
		grep -q "^u $unit_user " "${sysusers:-/nonexistent}"
else
	check "no sysusers.d file (the unit uses DynamicUser=)" test -z "$sysusers"
fi

man_ok() {
	local p out
	for p in man1/vigil.1 man5/vigil.json.5 man8/vigild.8; do
		[ -f "$D$L/share/man/$p" ] || return 1
		out=$(MANWIDTH=80 timeout 60 man --warnings -l "$D$L/share/man/$p" 2>&1 >/dev/null) &&
			[ -z "$out" ] || { echo "# $p: $out"; return 1; }
	done
	grep -q "$L/share/vigil/mibs" "$D$L/share/man/man8/vigild.8"
}
check "man pages vigil.1, vigil.json.5, vigild.8: man --warnings says nothing" man_ok

# ---- installed for real under a scratch PREFIX, source tree renamed ----
P=$W/prefix
live=(PREFIX="$P" UNITDIR="$P/lib/systemd/system" SYSUSERSDIR="$P/lib/sysusers.d")
# The stamp of the MIB directory recompiles one object, not the build.
{ timeout -k 10 900 make -C "$src" -j"$jobs" BUILD="$B" MIBDIR="$P/share/vigil/mibs" \
	"$B/vigild" "$B/vigil" &&
  timeout -k 10 120 make -C "$src" -s install BUILD="$B" "${live[@]}"; } > "$W/install2.log" 2>&1 ||
	fatal "rebuild for MIBDIR=$P/share/vigil/mibs, make install PREFIX=$P" "$W/install2.log"
recompiled=$(grep -c -- ' -c .* -o ' "$W/install2.log")
[ "$recompiled" -eq 1 ] && grep -q 'collectors/snmp_mib.c' "$W/install2.log"
result $? "rebuild for another MIBDIR recompiles only collectors/snmp_mib.c ($recompiled object(s)), make install PREFIX=$P"
mv "$src" "$W/moved" && src=$W/moved
unit_src=$src/systemd/vigild.service

cd "$W" || fatal "cd $W"
timeout -k 5 60 env -u VIGIL_MIBDIR "$P/bin/vigild" -t -c "$P/etc/vigil/vigil.json" \
	> "$W/t.out" 2> "$W/t.err"
rc=$?
[ "$rc" -eq 0 ] && grep -q "OK: [0-9]* hosts" "$W/t.out"
result $? "installed vigild -t loads the installed example, source tree moved away"
[ "$rc" -eq 0 ] || show "$W/t.err"
# Proof that the MIBs came from $P: without them IF-MIB is not found,
# unless the system has a real IF-MIB in the example's mibs.dirs.
if ls /usr/share/snmp/mibs/IF-MIB* >/dev/null 2>&1; then
	skip "the example needs the installed MIBs (this system has its own IF-MIB)"
else
	mv "$P/share/vigil/mibs" "$P/share/vigil/mibs.off"
	timeout -k 5 60 env -u VIGIL_MIBDIR "$P/bin/vigild" -t -c "$P/etc/vigil/vigil.json" \
		> /dev/null 2> "$W/t2.err"
	rc=$?
	mv "$P/share/vigil/mibs.off" "$P/share/vigil/mibs"
	[ "$rc" -eq 1 ] && grep -q "MIB module 'IF-MIB' not found" "$W/t2.err"
	result $? "without $P/share/vigil/mibs the example does not load (so those were read)"
fi

echo "// changed by test/package.sh" >> "$P/etc/vigil/vigil.json"
timeout -k 10 120 make -C "$src" -s install BUILD="$B" "${live[@]}" > "$W/install3.log" 2>&1
rc=$?
kept_ok() {
	[ "$rc" -eq 0 ] && grep -q "^kept $P/etc/vigil/vigil.json" "$W/install3.log" &&
	tail -n 1 "$P/etc/vigil/vigil.json" | grep -q 'changed by test/package.sh' &&
	cmp -s "$P/etc/vigil/vigil.json.example" "$etc/vigil.json" &&
	! ls "$P/etc/vigil/profiles/"*.example >/dev/null 2>&1
}
check "reinstall keeps a changed vigil.json, the shipped one beside it as vigil.json.example" kept_ok
[ "$rc" -eq 0 ] || show "$W/install3.log"

timeout -k 10 120 make -C "$src" -s uninstall BUILD="$B" "${live[@]}" > "$W/uninstall.log" 2>&1
rc=$?
uninstall_ok() {
	[ "$rc" -eq 0 ] || return 1
	[ -z "$(find "$P" -type f ! -path "$P/etc/vigil/vigil.json")" ] || {
		find "$P" -type f | sed 's/^/#   left: /'; return 1; }
	tail -n 1 "$P/etc/vigil/vigil.json" | grep -q 'changed by test/package.sh'
}
check "uninstall removes every file but the changed vigil.json" uninstall_ok

# ---- the Debian package ----
ver=$(cd "$src" && dpkg-parsechangelog -S Version 2>/dev/null)
[ -n "$ver" ] || fatal "debian/changelog names a version"
pkg=$W/deb/vigil-$ver
mkdir -p "$W/deb" && cp -a "$src" "$pkg" || fatal "copy for dpkg-buildpackage"
echo "# dpkg-buildpackage -us -uc -b (vigil $ver)"
b0=$(date +%s)
(cd "$pkg" && DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-parallel=$jobs}" \
	timeout -k 10 1200 dpkg-buildpackage -us -uc -b) > "$W/dpkg-buildpackage.log" 2>&1 ||
	fatal "dpkg-buildpackage -us -uc -b" "$W/dpkg-buildpackage.log"
result 0 "dpkg-buildpackage -us -uc -b ($(( $(date +%s) - b0 )) s)"
deb=$(ls "$W/deb/vigil_${ver}_"*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || fatal "dpkg-buildpackage made vigil_${ver}_*.deb"

timeout -k 10 600 lintian --fail-on error "$deb" > "$W/lintian.log" 2>&1
rc=$?
grep -E '^[EW]: ' "$W/lintian.log" | sed 's/^/# lintian: /'
result $rc "lintian --fail-on error: no error"

dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' > "$W/contents"
contents_ok() {
	local p missing=0
	for p in /usr/bin/vigild /usr/bin/vigil /lib/systemd/system/vigild.service \
		/etc/vigil/vigil.json /etc/vigil/hosts.d/example.json /etc/vigil/profiles/pdu-metered.json \
		/usr/share/vigil/mibs/IF-MIB.txt /usr/share/vigil/mibs/SNMPv2-SMI.txt \
		/usr/share/man/man1/vigil.1.gz /usr/share/man/man5/vigil.json.5.gz \
		/usr/share/man/man8/vigild.8.gz /usr/share/doc/vigil/README.md \
		/usr/share/doc/vigil/config.md /usr/share/doc/vigil/copyright \
		${unit_user:+/usr/lib/sysusers.d/vigil.conf}; do
		grep -qxF "$p" "$W/contents" || { echo "# missing in the .deb: $p"; missing=1; }
	done
	if [ -d "$src/web" ]; then
		while IFS= read -r p; do
			grep -qxF "/usr/share/vigil/web/${p#./}" "$W/contents" ||
				{ echo "# missing in the .deb: /usr/share/vigil/web/${p#./}"; missing=1; }
		done < <(cd "$src/web" && find . -type f)
	fi
	[ -z "$unit_user" ] && grep -q sysusers "$W/contents" && { echo "# sysusers.d file with DynamicUser="; missing=1; }
	grep -q '^/usr/local\|^/usr/sbin/vigild' "$W/contents" && { echo "# /usr/local or sbin in the .deb"; missing=1; }
	[ "$missing" -eq 0 ]
}
check "dpkg-deb -c lists the expected paths" contents_ok

x=$W/x
rm -rf "$x" && dpkg-deb -x "$deb" "$x" && dpkg-deb -e "$deb" "$x/DEBIAN"
scripts_ok() {
	grep -qx /etc/vigil/vigil.json "$x/DEBIAN/conffiles" &&
	grep -qx '/etc/vigil/profiles/pdu-metered.json' "$x/DEBIAN/conffiles" &&
	grep -q "deb-systemd-helper update-state 'vigild.service'" "$x/DEBIAN/postinst" &&
	# installed disabled (dh_installsystemd --no-enable): enabled only if it was
	grep -q "deb-systemd-helper debian-installed 'vigild.service'" "$x/DEBIAN/postinst" &&
	if [ -n "$unit_user" ]; then grep -q 'systemd-sysusers .*vigil.conf' "$x/DEBIAN/postinst"; fi &&
	grep -qx 'ExecStart=/usr/bin/vigild -c /etc/vigil/vigil.json' "$x/lib/systemd/system/vigild.service" &&
	[ "$(grep -c '^ExecStart=' "$x/lib/systemd/system/vigild.service")" -eq 1 ]
}
check "conffiles, postinst (installed disabled; sysusers), the unit runs /usr/bin/vigild" scripts_ok

mibdir_ok() {
	grep -qaF /usr/share/vigil/mibs "$x/usr/bin/vigild" &&
	! grep -qaF "$pkg/mibs" "$x/usr/bin/vigild" &&
	timeout -k 5 60 env VIGIL_MIBDIR="$x/usr/share/vigil/mibs" "$x/usr/bin/vigild" -t \
		-c "$x/etc/vigil/vigil.json" 2>/dev/null | grep -q "OK: [0-9]* hosts"
}
check "the packaged vigild reads /usr/share/vigil/mibs and loads the packaged example" mibdir_ok

finish
