# The checkout's configuration and rules as installed by the package: every relative path made
# absolute (relative paths resolve against the directory above the config's, /etc for
# /etc/sluice/sluice.yaml), the data under the unit's StateDirectory, the rules beside the config.
s|^# Relative paths resolve against the directory above etc/ (the checkout root)\.|# Installed by the sluice package (a conffile: your changes survive upgrades). Paths are absolute:\n# data under /var/lib/sluice (the unit's StateDirectory), rules under /etc/sluice/rules.|
/^data_dir: var /{
s|^data_dir: var |data_dir: /var/lib/sluice |
a\
rules_dir: /etc/sluice/rules      # rule sets (default.yaml), DLP profiles (dlp.yaml), lists/
}
s|\([ :(]\)var/|\1/var/lib/sluice/|g
s| etc/sluice\.yaml| /etc/sluice/sluice.yaml|g
s|etc/partner\.secret|/etc/sluice/partner.secret|g
s|make run creates s1|the package made s1|
