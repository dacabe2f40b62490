namespace Notification.Worker; public static class Program { public static void Main() { } }
