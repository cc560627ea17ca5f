package connectwatchdog.e2e;

import java.io.File;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;

/** BlockerConnector's task N: start() waits while `task-N.block` exists; start() and poll() throw while `task-N.fail` does. */
public class BlockerTask extends SourceTask {
  private File fail;

  @Override
  public void start(Map<String, String> props) {
    File dir = new File(props.get(BlockerConnector.FLAG_DIR));
    String id = props.get(BlockerConnector.TASK_ID);
    fail = new File(dir, "task-" + id + ".fail");
    BlockerConnector.waitWhile(new File(dir, "task-" + id + ".block"));
    failIfFlagged();
  }

  private void failIfFlagged() {
    if (fail.exists()) throw new ConnectException("e2e blocker: the task failed because its fail flag is set");
  }

  @Override
  public List<SourceRecord> poll() throws InterruptedException {
    failIfFlagged();
    Thread.sleep(500);
    return null;
  }

  @Override
  public void stop() {}

  @Override
  public String version() {
    return "1.0";
  }
}
