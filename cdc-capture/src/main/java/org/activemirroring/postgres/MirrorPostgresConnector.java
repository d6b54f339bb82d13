package org.activemirroring.postgres;

import java.util.List;

import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.source.SourceRecord;

import io.debezium.connector.postgresql.PostgresConnector;
import io.debezium.connector.postgresql.PostgresConnectorTask;
import org.activemirroring.capture.QuietPoll;

/** Debezium's PostgreSQL connector with a task that takes changes as soon as they are there and
 * waits for them without spinning ({@link QuietPoll}). */
public class MirrorPostgresConnector extends PostgresConnector {
    @Override
    public Class<? extends Task> taskClass() {
        return QuietTask.class;
    }

    /** The connector's task; Debezium instantiates it by class, so it is public with a no-argument constructor. */
    public static class QuietTask extends PostgresConnectorTask {
        private final QuietPoll quiet = new QuietPoll(this, PostgresConnectorTask.class);

        @Override
        public List<SourceRecord> doPoll() throws InterruptedException {
            return quiet.poll(super::doPoll);
        }
    }
}
