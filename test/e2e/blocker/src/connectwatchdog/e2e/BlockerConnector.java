package connectwatchdog.e2e;

import java.io.File;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceConnector;

/**
 * A source connector for the e2e suite (test/e2e/blocked-start.test.ts) whose start() does what flag files in
 * the directory named by its `flag.dir` say: it waits while `connector.block` exists, then throws a
 * ConnectException if `connector.fail` exists. No shipped connector blocks or fails at will; Connect's status
 * for a start() that has not returned (none after a create, RESTARTING after a restart) is what it exercises.
 * Its tasks do the same with `task-N.block` / `task-N.fail` (see BlockerTask). It produces nothing.
 */
public class BlockerConnector extends SourceConnector {
  static final String FLAG_DIR = "flag.dir";
  static final String TASK_ID = "blocker.task.id";
  public static final String FAILURE = "e2e blocker: start() failed because its fail flag is set";

  private Map<String, String> props;

  @Override
  public void start(Map<String, String> props) {
    this.props = props;
    File dir = new File(props.get(FLAG_DIR));
    waitWhile(new File(dir, "connector.block"));
    if (new File(dir, "connector.fail").exists()) throw new ConnectException(FAILURE);
  }

  /** Polls, so that a flag removed by the test frees a start() within 0.1 s; an interrupt ends the wait. */
  static void waitWhile(File flag) {
    while (flag.exists()) {
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  @Override
  public Class<? extends Task> taskClass() {
    return BlockerTask.class;
  }

  @Override
  public List<Map<String, String>> taskConfigs(int maxTasks) {
    List<Map<String, String>> configs = new ArrayList<>();
    for (int i = 0; i < maxTasks; i++) {
      Map<String, String> c = new HashMap<>(props);
      c.put(TASK_ID, Integer.toString(i));
      configs.add(c);
    }
    return configs;
  }

  @Override
  public void stop() {}

  @Override
  public ConfigDef config() {
    return new ConfigDef().define(FLAG_DIR, ConfigDef.Type.STRING, ConfigDef.Importance.HIGH, "directory of the flag files");
  }

  @Override
  public String version() {
    return "1.0";
  }
}
