#!/bin/sh
# ActiveMirroring: start N local mirrors of a site, each a real Tomcat with its own database.
#
# When to use it: to try a site mirrored on one machine (development, a demo, checking a site
# before deploying it), not in production. Each mirror gets a CATALINA_BASE made from the files
# next to this script (server.xml, context.xml, setenv.sh, mirror.properties, and for --install lib
# global-web-filter.xml), an embedded PostgreSQL, an upload folder replicated as "uploads", and
# ports found free on 127.0.0.1. It prints each mirror's URL; Ctrl-C stops everything it started.
#
#   tomcat-conf/start-mirrors.sh N [--war [context=]site.war]... [--install war|lib] [--dir DIR]
#
# --war      the site (repeatable); default sample-webapp/target/sample-webapp.war if built
# --install  war (default): the WAR carries the plugin; lib: the plugin goes into Tomcat's lib/
#            and its filter into conf/web.xml (for a WAR built without it)
# --dir      where the mirrors' files go (default tomcat-conf/target/local-mirrors)
# Needs only a JDK 17+: the first run builds what is missing (Tomcat comes from Maven Central).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
if [ $# -lt 1 ]; then
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi

cd "$root"
if [ ! -f tomcat-conf/target/launcher.classpath ] || [ ! -d mirror-filter/target/activemirroring-plugin ] \
   || [ ! -d tomcat-conf/target/classes/org ]; then
  echo "Building the plugin, the Tomcat distribution and the launcher (once)..."
  ./mvnw -B -q -DskipTests -pl tomcat-conf -am install
fi

count=$1
shift
case " $* " in
  *" --war "*) ;;
  *) if [ -f sample-webapp/target/sample-webapp.war ]; then
       set -- "$@" --war sample-webapp/target/sample-webapp.war
     fi ;;
esac

exec java \
  -Dtomcat.home="$root/tomcat-conf/target/tomcat/$(ls tomcat-conf/target/tomcat | head -n 1)" \
  -Dtomcat.conf.dir="$here" \
  -Dtomcat.lib.dir="$root/tomcat-conf/target/tomcat-lib" \
  -Dplugin.bundle.dir="$root/mirror-filter/target/activemirroring-plugin" \
  -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$root/tomcat-conf/target/classes:$(cat tomcat-conf/target/launcher.classpath)" \
  org.activemirroring.tomcatconf.LocalMirrors "$count" "$@"
