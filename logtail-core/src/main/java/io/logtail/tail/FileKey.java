package io.logtail.tail;

/** Where a file lives: device and inode, as {@code unix:dev} and {@code unix:ino} report them. */
record FileKey(long device, long inode) {
  @Override
  public String toString() {
    return "dev " + device + ", inode " + inode;
  }
}
