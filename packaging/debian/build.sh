#!/usr/bin/env bash
# Builds the Debian package .build/deb/sluice_VERSION_ARCH.deb (`make deb`):
#   /usr/bin/sluice                 built with --static-swift-stdlib: no Swift toolchain needed on the target
#   /etc/sluice/                    sluice.yaml, rules/ (conffiles), paths made absolute by paths.sed
#   /lib/systemd/system/sluice.service
#   bash, zsh and fish completions and the man page sluice(1), generated from the CLI's definitions
# Depends are what dpkg-shlibdeps finds the binary links (libopendkim, libspf2, libunbound, ...).
# postinst makes the sluice system user and /var/lib/sluice; postrm purge removes the data.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=packaging/debian
SWIFT=${SWIFT:-swift}
version=$(sed -n 's/.*static let number = "\(.*\)".*/\1/p' Sources/SluiceCore/SluiceVersion.swift)
arch=$(dpkg --print-architecture)
out=$PWD/.build/deb
root=$out/root
deb=$out/sluice_${version}_${arch}.deb

echo "== sluice $version ($arch): release build with the Swift runtime linked in"
$SWIFT build -c release --static-swift-stdlib --scratch-path .build/static --product sluice
bin=.build/static/release/sluice
if ldd "$bin" | grep -E 'libswift|libFoundation|libdispatch|libBlocksRuntime'; then
    echo "build.sh: the binary still links the Swift runtime dynamically (above)" >&2
    exit 1
fi

rm -rf "$root" && mkdir -p "$root/DEBIAN"
install -D -m 0755 "$bin" "$root/usr/bin/sluice"
strip --strip-unneeded "$root/usr/bin/sluice"

echo "== configuration (conffiles), unit, documentation"
install -d -m 0755 "$root/etc/sluice/rules/lists"
sed -f $here/paths.sed etc/sluice.yaml > "$root/etc/sluice/sluice.yaml"
for f in rules/*.yaml; do sed -f $here/paths.sed "$f" > "$root/etc/sluice/$f"; done
install -m 0644 rules/lists/* "$root/etc/sluice/rules/lists/"
chmod 0644 "$root"/etc/sluice/sluice.yaml "$root"/etc/sluice/rules/*.yaml
install -d "$root/lib/systemd/system"
sed -e 's|/usr/local/bin/sluice|/usr/bin/sluice|g' \
    -e '/^# Install: binary at/,/^#   systemctl daemon-reload/c\# Installed by the sluice package: configuration in /etc/sluice, data in /var/lib/sluice (the sluice user'"'"'s).\n#   systemctl enable --now sluice' \
    systemd/sluice.service > "$root/lib/systemd/system/sluice.service"
chmod 0644 "$root/lib/systemd/system/sluice.service"
install -D -m 0644 README.md "$root/usr/share/doc/sluice/README.md"
install -D -m 0644 docs/rules.md "$root/usr/share/doc/sluice/rules.md"
install -D -m 0644 $here/copyright "$root/usr/share/doc/sluice/copyright"

echo "== completions and man page (from the CLI's definitions)"
install -d "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
    "$root/usr/share/fish/vendor_completions.d" "$root/usr/share/man/man1"
"$root/usr/bin/sluice" --generate-completion-script bash > "$root/usr/share/bash-completion/completions/sluice"
"$root/usr/bin/sluice" --generate-completion-script zsh > "$root/usr/share/zsh/vendor-completions/_sluice"
"$root/usr/bin/sluice" --generate-completion-script fish > "$root/usr/share/fish/vendor_completions.d/sluice.fish"
# swift-argument-parser's generate-manual plugin reads `sluice --experimental-dump-help` of the debug build.
$SWIFT package generate-manual --configuration debug --section 1 --authors "Sluice developers" >/dev/null
gzip -9n < .build/plugins/GenerateManual/outputs/sluice/sluice.1 > "$root/usr/share/man/man1/sluice.1.gz"
chmod 0644 "$root"/usr/share/bash-completion/completions/* "$root"/usr/share/zsh/vendor-completions/* \
    "$root"/usr/share/fish/vendor_completions.d/* "$root"/usr/share/man/man1/*

echo "== control"
(cd "$root" && find etc -type f | sort | sed 's|^|/|') > "$root/DEBIAN/conffiles"
install -m 0755 $here/postinst $here/prerm $here/postrm "$root/DEBIAN/"
# dpkg-shlibdeps reads the package's debian/control: a minimal one in a scratch directory.
shl=$out/shlibdeps && rm -rf "$shl" && mkdir -p "$shl/debian"
printf 'Source: sluice\n\nPackage: sluice\nArchitecture: any\n' > "$shl/debian/control"
depends=$(cd "$shl" && dpkg-shlibdeps -O -e"$root/usr/bin/sluice" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "build.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" -e "s|@INSTALLED_SIZE@|$size|" -e "s|@DEPENDS@|$depends|" \
    $here/control.in > "$root/DEBIAN/control"

dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "built $deb ($(du -h "$deb" | cut -f1)); Depends: $depends"
