export function App() {
  return (
    <main>
      <h1>Lethe</h1>
    </main>
  );
}
