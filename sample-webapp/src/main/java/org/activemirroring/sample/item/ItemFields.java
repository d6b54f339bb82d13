package org.activemirroring.sample.item;

import org.activemirroring.sample.FieldErrors;

/**
 * The text fields of an item as submitted, stripped of surrounding blanks.
 */
public record ItemFields(String title, String description, String place, String period) {
    public ItemFields {
        title = strip(title);
        description = strip(description);
        place = strip(place);
        period = strip(period);
    }

    private static String strip(String s) {
        return s == null ? "" : s.strip();
    }

    /** What is wrong with them: title and description are required, each field has a length limit. */
    public FieldErrors validate() {
        return new FieldErrors()
                .text("title", "Title", title, true, Item.MAX_TITLE)
                .text("description", "Description", description, true, Item.MAX_DESCRIPTION)
                .text("place", "Place", place, false, Item.MAX_PLACE)
                .text("period", "Period", period, false, Item.MAX_PERIOD);
    }

    /** For the templates. */
    public String getTitle() {
        return title;
    }

    public String getDescription() {
        return description;
    }

    public String getPlace() {
        return place;
    }

    public String getPeriod() {
        return period;
    }
}
