using Notification.Worker.DeadLetters;
using Notification.Worker.Infrastructure;
using Registration.Hosting;

// `dead-letters list|replay`: an operator command, not the worker.
if (DeadLetterCommand.Handles(args))
{
    return await DeadLetterCommand.RunAsync(args, Console.Out, Console.Error);
}

// appsettings.json ships next to the dll: find it whatever the current directory.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
return await ServiceRunner.RunAsync(builder, () =>
{
    builder.AddNotificationWorker();
    return builder.Build();
});
