using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Notification.Worker.Email;
using Notification.Worker.Email.Templates;
using Registration.Contracts.V1;
using Registration.Hosting;

namespace Registration.Bench;

/// <summary>
/// The pipeline's ceiling: a bare MassTransit 8 consumer that posts each <see cref="UserRegistered"/> once
/// to the provider and nothing else — no claim, no record, no retries, no telemetry, no log line. It runs as
/// a child process (<c>Registration.Bench.dll raw-consumer</c>) configured like the worker (same settings
/// keys, same bus set-up from <c>Registration.Hosting</c>, same queue, concurrency and prefetch, workstation
/// GC): the comparison then differs in what the consumer does, not in where it runs. In the benchmark's own
/// process it would share the load generator's heap, thread pool and CPU account, and run under server GC.
/// </summary>
public static class RawConsumer
{
    public const string Command = "raw-consumer";

    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    public static async Task<int> RunAsync(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args[1..] });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var configuration = builder.Configuration;
        var concurrency = configuration.GetValue("Consumer:ConcurrentMessageLimit", 8);
        var prefetch = Math.Max(configuration.GetValue("Consumer:PrefetchCount", 16), concurrency);
        var baseUrl = new Uri(configuration["Email:BaseUrl"] ?? throw new InvalidOperationException("Email:BaseUrl is not set"));
        var from = configuration["Email:From"] ?? "bench@registration.local";

        builder.Services.AddSingleton(new RawSender(
            new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10) }) { BaseAddress = baseUrl }, from));
        builder.AddRabbitMqMessaging(bus => bus.AddConsumer<RawEmailConsumer>().Endpoint(endpoint =>
        {
            // The worker's queue: the same bindings and queue arguments, so the same broker work per message.
            endpoint.Name = "activation-email";
            endpoint.ConcurrentMessageLimit = concurrency;
            endpoint.PrefetchCount = prefetch;
        }));

        using var host = builder.Build();
        await host.RunAsync();
        return 0;
    }

    /// <summary>One POST per message, the worker's email text and Mailpit body; a failure is an exception (redelivered).</summary>
    public sealed class RawSender(HttpClient http, string from)
    {
        public async Task SendAsync(OutgoingEmail email, CancellationToken cancellationToken)
        {
            var body = new
            {
                From = new { Email = from },
                To = new[] { new { Email = email.To } },
                email.Subject,
                Text = email.TextBody,
                HTML = email.HtmlBody,
                Tags = new[] { email.Tag, email.Reference },
            };
            using var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, Json));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            using var response = await http.PostAsync("api/v1/send", content, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException(string.Create(CultureInfo.InvariantCulture, $"provider answered {(int)response.StatusCode}"));
            }
        }
    }

    public sealed class RawEmailConsumer(RawSender sender) : IConsumer<UserRegistered>
    {
        public Task Consume(ConsumeContext<UserRegistered> context)
        {
            var message = context.Message;
            var email = ActivationCodeTemplate.Render(
                context.MessageId, message.UserId, message.Email, new EmailCode(message.ActivationCode, message.OccurredAt, message.CodeExpiresAt));
            return sender.SendAsync(email, context.CancellationToken);
        }
    }
}
