package org.activemirroring.mirror;

import java.util.List;

import org.activemirroring.config.ConfigOption;
import org.activemirroring.config.Importance;

/**
 * Renders the README's option tables from {@link MirrorConfig#ALL_OPTIONS}, so the documented keys
 * and defaults are the ones the code uses. Run {@code main} to print them; a test keeps the README
 * in step.
 */
public final class OptionsTable {
    private OptionsTable() {
    }

    /** Markdown: one table per importance group. */
    public static String markdown(List<ConfigOption<?>> options) {
        StringBuilder sb = new StringBuilder();
        for (Importance importance : Importance.values()) {
            sb.append("#### ").append(title(importance)).append("\n\n");
            sb.append("| key | default | environment | what it does |\n");
            sb.append("| --- | --- | --- | --- |\n");
            for (ConfigOption<?> o : options) {
                if (o.importance() != importance) {
                    continue;
                }
                String def = o.isRequired() ? "*(required)*"
                        : o.defaultValue() == null ? "*(unset)*"
                        : o.defaultValue().toString().isEmpty() ? "*(empty)*" : "`" + o.defaultValue() + "`";
                sb.append("| `").append(o.key()).append("` | ").append(def).append(" | `").append(o.envName())
                        .append("` | ").append(o.doc().replace("|", "\\|")).append(" |\n");
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String title(Importance importance) {
        return switch (importance) {
            case ESSENTIAL -> "Essentials";
            case FREQUENT -> "Frequently used";
            case RARE -> "Rarely used";
        };
    }

    public static void main(String[] args) {
        System.out.print(markdown(MirrorConfig.ALL_OPTIONS));
    }
}
