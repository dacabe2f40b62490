namespace Registration.Testing.Client;

/// <summary>
/// The routes the API maps, and which one a request reaches, worked out as Kestrel and ASP.NET Core's
/// router do it: the path is percent-decoded (an encoded '/' stays one segment) and its dot segments
/// removed; a trailing '/' is ignored; literal segments compare case-insensitively; a parameter takes
/// any non-empty segment; a literal beats a parameter (<c>/v1/users/ME</c> is the caller's own account,
/// not the user with id "ME"); the method must be one the route maps (<c>*</c>: any, as for the health
/// checks and the Prometheus endpoint). An oracle that compares the
/// request's text instead would expect nothing of <c>POST /V1/USERS</c>, which registers a user.
/// </summary>
public static class ApiRoutes
{
    private static readonly Route[] Routes =
    [
        .. new[]
        {
            "POST /v1/users", "GET /v1/users", "GET /v1/users/{id}", "DELETE /v1/users/{id}",
            "GET /v1/users/me", "PATCH /v1/users/me", "DELETE /v1/users/me", "POST /v1/users/me/activation", "POST /v1/users/me/activation-code",
            "POST /v1/users/me/email-confirmation",
            "* /health/live", "* /health/ready", "* /metrics", "GET /openapi/{documentName}.json", "GET /docs/{*path}",
        }.Select(Route.Parse),
    ];

    /// <summary>The route (<c>"METHOD /template"</c>) that <paramref name="method"/> <paramref name="path"/> reaches, or null for a 404 or 405.</summary>
    /// <param name="path">The path as sent, percent-encoded, without the query.</param>
    public static string? Match(string method, string path)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(path);
        var segments = Segments(RemoveDotSegments(Decode(path)));
        return Routes
            .Where(route => route.Method is "*" || string.Equals(route.Method, method, StringComparison.OrdinalIgnoreCase))
            .Where(route => route.Matches(segments))
            .OrderByDescending(route => route.Precedence)
            .FirstOrDefault()?.Name;
    }

    /// <summary>Kestrel's decoding: every <c>%XX</c> but <c>%2F</c>, as UTF-8.</summary>
    private static string Decode(string path)
    {
        var bytes = new List<byte>(path.Length);
        for (var index = 0; index < path.Length; index++)
        {
            if (path[index] == '%' && index + 2 < path.Length
                && byte.TryParse(path.AsSpan(index + 1, 2), System.Globalization.NumberStyles.HexNumber, null, out var value) && value != '/')
            {
                bytes.Add(value);
                index += 2;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(path[index].ToString()));
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    /// <summary>RFC 3986 section 5.2.4, as Kestrel applies it to the decoded path.</summary>
    private static string RemoveDotSegments(string path)
    {
        var output = new List<string>();
        var parts = path.Split('/');
        for (var index = 1; index < parts.Length; index++)
        {
            var last = index == parts.Length - 1;
            switch (parts[index])
            {
                case ".":
                    if (last)
                    {
                        output.Add(string.Empty);
                    }

                    break;
                case "..":
                    if (output.Count > 0)
                    {
                        output.RemoveAt(output.Count - 1);
                    }

                    if (last)
                    {
                        output.Add(string.Empty);
                    }

                    break;
                default:
                    output.Add(parts[index]);
                    break;
            }
        }

        return "/" + string.Join('/', output);
    }

    /// <summary>The router's segments: between slashes, with an empty last one (a trailing slash) dropped.</summary>
    private static string[] Segments(string path)
    {
        var segments = path.TrimStart('/').Split('/');
        return segments is [.. var rest, ""] ? rest : segments;
    }

    private sealed record Route(string Name, string Method, string[] Template)
    {
        /// <summary>Literal segments first, position by position: <c>/v1/users/me</c> before <c>/v1/users/{id}</c>.</summary>
        public string Precedence => string.Concat(Template.Select(segment => IsParameter(segment) ? '0' : '1'));

        public static Route Parse(string name)
        {
            var (method, template) = name.Split(' ') is [var m, var t] ? (m, t) : throw new ArgumentException(name, nameof(name));
            return new Route(name, method, Segments(template));
        }

        public bool Matches(string[] segments)
        {
            for (var index = 0; index < Template.Length; index++)
            {
                var segment = Template[index];
                if (segment.StartsWith("{*", StringComparison.Ordinal))
                {
                    return true; // a catch-all takes whatever is left, nothing included
                }

                if (index >= segments.Length || !SegmentMatches(segment, segments[index]))
                {
                    return false;
                }
            }

            return segments.Length == Template.Length;
        }

        private static bool IsParameter(string segment) => segment.Contains('{', StringComparison.Ordinal);

        /// <summary>A literal, a whole-segment parameter, or a parameter with a literal suffix (<c>{name}.json</c>).</summary>
        private static bool SegmentMatches(string template, string segment)
        {
            if (!IsParameter(template))
            {
                return string.Equals(template, segment, StringComparison.OrdinalIgnoreCase);
            }

            var suffix = template[(template.IndexOf('}', StringComparison.Ordinal) + 1)..];
            return segment.Length > suffix.Length && segment.EndsWith(suffix, StringComparison.OrdinalIgnoreCase);
        }
    }
}
