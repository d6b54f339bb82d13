# ActiveMirroring: bin/setenv.sh for a Tomcat that runs a mirror.
#
# When to use it: copy it to $CATALINA_BASE/bin/setenv.sh on each mirror (catalina.sh reads it at
# every start). It tells the plugin where mirror.properties is and gives the JVM a fixed heap.
#
# What to set (environment, or edit the defaults here):
#   MIRROR_CONFIG_FILE  path of this mirror's mirror.properties
#                       (default $CATALINA_BASE/conf/mirror.properties)
#   MIRROR_HEAP         maximum heap (default 512m: the site and one mirror node fit in it)
#   MIRROR_JAVA_OPTS    any further JVM options for this mirror
# Keep passwords out of this file: it ends up on the command line, which every local user can read.

MIRROR_CONFIG_FILE="${MIRROR_CONFIG_FILE:-$CATALINA_BASE/conf/mirror.properties}"
MIRROR_HEAP="${MIRROR_HEAP:-512m}"

CATALINA_OPTS="$CATALINA_OPTS -Dmirror.config=$MIRROR_CONFIG_FILE -Xms64m -Xmx$MIRROR_HEAP"
CATALINA_OPTS="$CATALINA_OPTS -XX:+ExitOnOutOfMemoryError ${MIRROR_JAVA_OPTS:-}"
export CATALINA_OPTS
