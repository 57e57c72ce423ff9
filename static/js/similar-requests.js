// While a member types a change request's title, show the similar requests already raised
// (the page's "Check for similar requests" button does the same without a script).
const region = document.getElementById('similar-requests')
const title = document.getElementById('id_title')

if (region && title) {
  let timer = null
  let asked = ''
  title.addEventListener('input', () => {
    clearTimeout(timer)
    timer = setTimeout(async () => {
      const text = title.value.trim()
      if (text.length < 3 || text === asked) return
      asked = text
      try {
        const response = await fetch(`${region.dataset.source}?title=${encodeURIComponent(text)}`,
          { credentials: 'same-origin', headers: { Accept: 'text/html' } })
        if (!response.ok || asked !== text) return
        region.innerHTML = await response.text()
        region.classList.remove('govuk-!-display-none')
      } catch (error) {
        // Suggestions are a help, not a step: the button still works.
      }
    }, 300)
  })
}
