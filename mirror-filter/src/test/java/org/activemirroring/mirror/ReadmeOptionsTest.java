package org.activemirroring.mirror;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

/** The README's option tables are generated from the options themselves and must stay in step. */
class ReadmeOptionsTest {

    @Test
    void readmeListsEveryOptionWithItsCurrentDefaultAndDoc() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        String tables = OptionsTable.markdown(MirrorConfig.ALL_OPTIONS);
        assertTrue(readme.contains(tables), "README.md's option tables are out of date; paste this between the"
                + " option markers (it is what OptionsTable prints from this build):\n" + tables);
    }
}
